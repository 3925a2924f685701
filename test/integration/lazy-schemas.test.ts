// Starting the daemon and running the CLI load no TypeBox and no schema:
// importing them cost about 180 ms of CPU at every start. The daemon checks
// params with generated code and loads the schemas only to word a refusal
// (or for rpc.discover). A resolve hook (module-log.mjs) lists what each
// process loads.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../client/protocol.ts';
import { tempDir, useDaemon } from './harness.ts';

const HOOK = fileURLToPath(new URL('./module-log.mjs', import.meta.url));
const logs = tempDir();
const daemonLog = path.join(logs, 'daemon');
const daemon = useDaemon({ env: { NODE_OPTIONS: `--import=${HOOK}`, MODULE_LOG: daemonLog } });

const loaded = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []);
const schemaModules = (file: string) =>
  loaded(file).filter((url) => url.includes('/@sinclair/typebox/') || url.includes('/client/schema/'));

describe('what is loaded when', () => {
  it('the daemon answers requests that fit without loading TypeBox or the schemas', async () => {
    const pm = daemon().client();
    await pm.daemon.ping();
    await pm.port.get({ port: 1 });
    expect(
      loaded(daemonLog).some((url) => url.endsWith('/daemon/main.js')),
      'the hook saw the daemon load',
    ).toBe(true);
    expect(schemaModules(daemonLog)).toEqual([]);
  });

  it('the first refusal loads them, to word data.field and data.problem', async () => {
    const error = await daemon()
      .client()
      .call('port.get', { port: 0 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.InvalidParams, data: { field: 'port', problem: 'must be a whole number 1..65535' } });
    expect(schemaModules(daemonLog)).not.toEqual([]);
  });

  it.each([['status'], ['api'], ['ports']])('`portmand %s` loads neither', async (verb) => {
    const cliLog = path.join(logs, verb);
    const r = await daemon().cli([verb], { env: { MODULE_LOG: cliLog } });
    expect(r.code, r.stderr).toBe(0);
    expect(
      loaded(cliLog).some((url) => url.endsWith('/client/cli.js')),
      'the hook saw the CLI load',
    ).toBe(true);
    expect(schemaModules(cliLog)).toEqual([]);
  });
});
