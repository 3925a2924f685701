// A Linux scan source through iproute2's `ss`, run without a shell.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { finishObservations } from '../../core/listeners.ts';
import type { Observation } from '../../core/observation.ts';
import { parseSsListening } from './ss-parse.ts';

const run = promisify(execFile);

/** Listening sockets from `ss -H -ltunp`; fails the scan if ss is missing or fails. */
export async function ssSource(): Promise<Observation[]> {
  const { stdout } = await run('ss', ['-H', '-ltunp'], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 });
  return finishObservations(parseSsListening(stdout));
}
