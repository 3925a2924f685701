import { describe, expect, it } from 'vitest';
import { emptyState, type EmittedEvent, type ServiceRecord } from '../../daemon/core/state.ts';
import type { CommandOutcome, CommandSpec } from '../../daemon/host/run-command.ts';
import { Restarter } from '../../daemon/act/restarter.ts';

const service = (over: Partial<ServiceRecord> = {}): ServiceRecord => ({
  name: 'web',
  port: 5000,
  protocol: 'tcp',
  host: '0.0.0.0',
  status: 'registered',
  tags: [],
  registeredAt: '',
  updatedAt: '',
  origin: 'register',
  restart: { command: ['run-it'] },
  ...over,
});
const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

/** A restarter whose commands finish only when the test says so. */
function setup(over: Partial<ServiceRecord> = {}, uids: (pid: number) => readonly number[] | null = () => [1000, 1000]) {
  const state = emptyState();
  state.services.web = service(over);
  const runs: Array<{ spec: CommandSpec; finish: (o?: Partial<CommandOutcome>) => void }> = [];
  const events: EmittedEvent[] = [];
  const signalled: number[] = [];
  let running = 0;
  let overlapped = false;
  const r = new Restarter({
    state,
    run: (spec) =>
      new Promise((resolve) => {
        if (++running > 1) overlapped = true;
        runs.push({
          spec,
          finish: (o = {}) => (
            running--,
            resolve({ exitCode: 0, signal: null, timedOut: false, stdout: '', stderr: '', droppedBytes: 0, ...o })
          ),
        });
      }),
    signal: (pid) => (signalled.push(pid), null),
    pidStart: async () => null,
    pidUids: async (pid) => uids(pid),
    ownerUid: (s) => s.owner?.uid ?? 1000,
    publish: (e) => events.push(e),
    runAs: (s) => (s.owner === undefined ? 'self' : s.owner.uid === 1000 ? { uid: 1000, gid: 1000 } : null),
    log: quiet,
  });
  return { state, r, runs, events, signalled, overlapped: () => overlapped };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Restarter', () => {
  it('coalesces: requests during a run share one more run after it, never two at once', async () => {
    const t = setup();
    const first = t.r.request('web', 'manual');
    const second = t.r.request('web', 'manual');
    const third = t.r.request('web', 'port_changed', 4999);
    await tick();
    expect(t.runs).toHaveLength(1);
    t.runs[0]!.finish();
    await first;
    await tick();
    expect(t.runs).toHaveLength(2);
    t.runs[1]!.finish({ exitCode: 1 });
    expect(await second).toEqual({ restarted: false, exitCode: 1, error: 'exited with code 1' });
    expect(await third).toBe(await second);
    expect(t.overlapped()).toBe(false);
    expect(t.events.map((e) => e.type === 'service_restarted' && e.data.ok)).toEqual([true, false]);
    // Idle again: the next request runs at once.
    const fourth = t.r.request('web', 'manual');
    await tick();
    expect(t.runs).toHaveLength(3);
    t.runs[2]!.finish();
    expect(await fourth).toEqual({ restarted: true, exitCode: 0 });
  });

  it('a port change restarts a service whose policy says so, with the previous port', async () => {
    const t = setup({ onPortChange: 'restart', port: 5001 });
    t.state.history.push({ at: '', service: 'web', port: 5001, previous: 5000, why: 'setPort' });
    t.r.observe({ type: 'port_assigned', data: { service: 'web', port: 5001, previous: 5000 } });
    await tick();
    expect(t.runs[0]!.spec.env).toMatchObject({ PORT: '5001', PORTMAND_PREVIOUS_PORT: '5000', PORTMAND_SERVICE: 'web' });
    t.runs[0]!.finish();
    await tick();
    expect(t.events[0]).toEqual({
      type: 'service_restarted',
      data: { service: 'web', port: 5001, reason: 'port_changed', ok: true, exitCode: 0 },
    });
  });

  it('no action: nothing runs and nothing is announced', async () => {
    const t = setup({ restart: undefined });
    expect(await t.r.request('web', 'manual')).toEqual({ restarted: false, error: 'no restart action is configured for this service' });
    expect(t.events).toEqual([]);
  });

  it('a signal action never signals init or the daemon itself, nor a pid that another process reused', async () => {
    for (const pid of [1, process.pid]) {
      const t = setup({ restart: { signal: 'SIGHUP' }, pid });
      expect((await t.r.request('web', 'manual')).restarted).toBe(false);
    }
    const t = setup({ restart: { signal: 'SIGHUP' }, pid: 4242, pidStart: 'then' });
    expect(await t.r.request('web', 'manual')).toEqual({ restarted: false, error: "process 4242 is not the service's owner any more" });
  });

  it("a signal action signals only a process of the service's owner: a client-given pid is never someone else's", async () => {
    const owner = { uid: 1000, user: 'alice' };
    // Another user's process (root's sshd, bob's shell): refused, nothing sent, though a root daemon could.
    for (const uids of [[0, 0], [1001, 1001], null]) {
      const t = setup({ restart: { signal: 'SIGTERM' }, pid: 4242, owner }, () => uids);
      expect(await t.r.request('web', 'manual')).toEqual({
        restarted: false,
        error: "process 4242 does not belong to the service's owner (uid 1000)",
      });
      expect(t.signalled).toEqual([]);
    }
    // The owner's own process (its real or saved uid, as kill(2) decides) is signalled.
    for (const uids of [
      [1000, 1000],
      [1000, 0],
      [0, 1000],
    ]) {
      const t = setup({ restart: { signal: 'SIGTERM' }, pid: 4242, owner }, () => uids);
      expect(await t.r.request('web', 'manual')).toEqual({ restarted: true });
      expect(t.signalled).toEqual([4242]);
    }
    // A service root owns may signal any process, as root itself could.
    const t = setup({ restart: { signal: 'SIGTERM' }, pid: 4242, owner: { uid: 0, user: 'root' } }, () => [1001, 1001]);
    expect(await t.r.request('web', 'manual')).toEqual({ restarted: true });
  });

  it('runs a command as the owner the daemon may become, and not at all as anyone else', async () => {
    const mine = setup({ owner: { uid: 1000 } });
    const ran = mine.r.request('web', 'manual');
    await tick();
    expect(mine.runs.map((r) => [r.spec.uid, r.spec.gid])).toEqual([[1000, 1000]]);
    mine.runs[0]!.finish();
    expect(await ran).toEqual({ restarted: true, exitCode: 0 });
    // An owner the daemon cannot become (a per-user daemon on a shared socket): never run as the daemon's user instead.
    const theirs = setup({ owner: { uid: 1001, user: 'bob' } });
    expect(await theirs.r.request('web', 'manual')).toEqual({
      restarted: false,
      error: "the daemon does not run as root, so it cannot run a command as the service's owner",
    });
    expect(theirs.runs).toEqual([]);
  });
});
