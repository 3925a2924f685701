// A lease's owner is a process, not a bare pid: the daemon records when the
// pid's process started, and a record whose start differs from the process now
// running under that pid (the pid was reused) loses its lease.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type ServiceRecord } from '../../daemon/core/state.ts';
import { processStart } from '../../daemon/host/process.ts';
import { serviceRecord } from '../core/fixtures.ts';
import { cleanup, startDaemon, tempDir } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const lease = (name: string, port: number, owner: { pid: number; pidStart?: string }): ServiceRecord =>
  serviceRecord(name, port, Date.now(), { origin: 'allocate', ...owner });

describe.skipIf(!['linux', 'darwin'].includes(process.platform))('lease owners', () => {
  it('keeps a live owner, reclaims a lease whose pid now runs another process, and trusts old records', async () => {
    const owner = spawn('sleep', ['60']);
    cleanups.push(async () => {
      owner.kill('SIGKILL');
      if (owner.exitCode === null && owner.signalCode === null) await once(owner, 'exit');
    });
    const pid = owner.pid!;
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    // As a dead owner's pid, reused by `sleep`, would leave it: the record's start is not the running process's.
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const services = { reused: lease('reused', 21001, { pid, pidStart: 'linux:1' }), old: lease('old', 21002, { pid }) };
    const state = { services, reservations: {}, conflicts: {}, history: [], statusLog: [], nextConflictId: 1 };
    writeFileSync(
      path.join(stateDir, 'state.json'),
      JSON.stringify({ schemaVersion: SCHEMA_VERSION, seq: 0, savedAt: new Date().toISOString(), state }),
    );

    const d = await startDaemon({ dir });
    cleanups.push(() => d.stop('SIGKILL'));
    const pm = d.client({ sendPid: false });
    await pm.port.allocate({ service: 'live', pid });
    // Each detect is a scan: the hold-off needs three rounds in a row.
    for (let round = 0; round < 3; round++) await pm.conflict.detect();

    const names = (await pm.service.list()).map((s) => s.name).sort();
    expect(names).toEqual(['live', 'old']);
    expect(await d.stop()).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as {
      state: { services: Record<string, ServiceRecord> };
    };
    expect(saved.state.services.live?.pidStart).toBe(await processStart(pid));
    expect(saved.state.services.old?.pidStart).toBeUndefined();
  });
});
