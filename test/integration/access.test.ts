// Issue 8, "Who may do what", against the real daemon: a root daemon on a
// shared (0666) socket, and clients running as other users (nobody, and a
// uid with no name). Skipped, saying why, where other users cannot be used.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, otherUsersUnavailable, passable, type Outcome } from './access-users.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

const unavailable = otherUsersUnavailable();
if (unavailable) console.log(`access tests with other users skipped: ${unavailable}`);

const NOBODY = { user: 'nobody' } as const;
const STRANGER = { uid: 4242 } as const;

/** A daemon on a socket everyone may open, in a directory everyone may pass through. */
async function sharedDaemon(config: object = {}, env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  const dir = tempDir();
  passable(dir);
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ socket: { mode: '0666' }, ...config }));
  return startDaemon({ dir, env: { PORTMAND_CONFIG: configFile, ...env } });
}

const ok = (o: Outcome | undefined) => {
  expect(o?.error).toBeUndefined();
  return o!.ok as Record<string, unknown>;
};

describe.skipIf(unavailable !== null)('caller identity and ownership on a shared socket (Linux peer lookup)', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await sharedDaemon();
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it('auth.whoami answers for each user what the kernel says, not what the client claims', async () => {
    const [nobody] = await callAs(NOBODY, d.socket, [{ method: 'auth.whoami' }]);
    expect(ok(nobody)).toMatchObject({ uid: 65534, user: 'nobody', admin: false, via: 'peer', pid: expect.any(Number) });
    const [stranger] = await callAs(STRANGER, d.socket, [{ method: 'auth.whoami' }]);
    expect(ok(stranger)).toEqual({ uid: 4242, admin: false, via: 'peer', pid: expect.any(Number) });
    expect(await d.client().auth.whoami()).toMatchObject({ uid: 0, user: 'root', admin: true, via: 'peer', pid: process.pid });
  });

  it("refuses A's service to B with -32004 naming the owner; B with A's token may; root may", async () => {
    const [reg] = await callAs(NOBODY, d.socket, [{ method: 'service.register', params: { name: 'acc-a', port: 24801 } }]);
    const a = ok(reg);
    expect(a.owner).toEqual({ uid: 65534, user: 'nobody' });
    expect(a.token).toMatch(/^pmt_/);

    const refused = await callAs(STRANGER, d.socket, [
      { method: 'service.setPort', params: { name: 'acc-a', port: 24802 } },
      { method: 'service.unregister', params: { name: 'acc-a' } },
      { method: 'port.release', params: { port: 24801 } },
      { method: 'port.allocate', params: { service: 'acc-a' } },
      { method: 'service.register', params: { name: 'acc-a', port: 24803 } },
      { method: 'token.rotate', params: { service: 'acc-a' } },
      { method: 'service.setPort', params: { name: 'acc-a', port: 24802, token: 'pmt_not-the-token' } },
      { method: 'service.get', params: { name: 'acc-a' } },
    ]);
    for (const r of refused.slice(0, 7)) {
      expect(r.error).toMatchObject({ code: -32004, data: { service: 'acc-a', owner: { uid: 65534, user: 'nobody' } } });
    }
    // Reading stays open, and nothing was changed.
    expect(ok(refused[7])).toMatchObject({ name: 'acc-a', port: 24801 });

    const [moved] = await callAs(STRANGER, d.socket, [
      { method: 'service.setPort', params: { name: 'acc-a', port: 24802, token: a.token } },
    ]);
    expect(ok(moved)).toMatchObject({ port: 24802, owner: { uid: 65534 } });
    // A token is no owner: it cannot replace itself.
    const [rotate] = await callAs(STRANGER, d.socket, [{ method: 'token.rotate', params: { service: 'acc-a', token: a.token } }]);
    expect(rotate?.error?.code).toBe(-32004);

    expect(await d.client().service.unregister({ name: 'acc-a' })).toEqual({ name: 'acc-a', releasedPorts: [24802] });
  });

  it('the client library remembers the tokens of what it created; a rotated token replaces the old one', async () => {
    const out = await callAs(NOBODY, d.socket, [
      { method: 'port.allocate', params: { service: 'acc-lib' } },
      { method: 'token.rotate', params: { service: 'acc-lib' } },
      { method: 'service.setPort', params: { name: 'acc-lib', port: 24811 } },
    ]);
    const first = ok(out[0]).token as string;
    const second = ok(out[1]).token as string;
    expect(second).not.toBe(first);
    expect(ok(out[2])).toMatchObject({ port: 24811 });
    const [old] = await callAs(STRANGER, d.socket, [{ method: 'service.unregister', params: { name: 'acc-lib', token: first } }]);
    expect(old?.error?.code).toBe(-32004);
    const [fresh] = await callAs(STRANGER, d.socket, [{ method: 'service.unregister', params: { name: 'acc-lib', token: second } }]);
    expect(ok(fresh)).toEqual({ name: 'acc-lib', releasedPorts: [24811] });
  });

  it("a swap needs both services; a reservation is its owner's", async () => {
    const [mine] = await callAs(NOBODY, d.socket, [{ method: 'service.register', params: { name: 'acc-x', port: 24821 } }]);
    const [theirs] = await callAs(STRANGER, d.socket, [{ method: 'service.register', params: { name: 'acc-y', port: 24822 } }]);
    const swap = { service: 'acc-y', strategy: 'swap', withService: 'acc-x' };
    const [refused] = await callAs(STRANGER, d.socket, [{ method: 'conflict.resolve', params: swap }]);
    expect(refused?.error).toMatchObject({ code: -32004, data: { service: 'acc-x', owner: { uid: 65534 } } });
    const [swapped] = await callAs(STRANGER, d.socket, [
      { method: 'conflict.resolve', params: { ...swap, token: [ok(theirs).token, ok(mine).token] } },
    ]);
    expect(ok(swapped)).toMatchObject({ from: 24822, to: 24821 });

    const [reserved] = await callAs(NOBODY, d.socket, [{ method: 'port.reserve', params: { port: 24831, reason: 'mine' } }]);
    expect(ok(reserved)).toMatchObject({ state: 'reserved', owner: { uid: 65534, user: 'nobody' }, token: expect.stringMatching(/^pmt_/) });
    const other = await callAs(STRANGER, d.socket, [
      { method: 'port.reserve', params: { port: 24831, reason: 'theirs' } },
      { method: 'port.release', params: { port: 24831 } },
    ]);
    for (const r of other) expect(r.error).toMatchObject({ code: -32004, data: { port: 24831, owner: { uid: 65534 } } });
  });

  it('conflict.resolve records the caller as `by`; the audit log names the caller and whether a token was used', async () => {
    await d.client().service.register({ name: 'acc-d1', port: 24841 });
    const [dup] = await callAs(NOBODY, d.socket, [{ method: 'service.register', params: { name: 'acc-d2', port: 24841 } }]);
    const id = (ok(dup).conflicts as Array<{ id: string }>)[0]!.id;
    const [resolved] = await callAs(NOBODY, d.socket, [
      { method: 'conflict.resolve', params: { conflictId: id, service: 'acc-d2', strategy: 'auto' } },
    ]);
    expect(ok(resolved)).toMatchObject({ conflict: { resolution: { by: 'nobody' } } });

    const rec = await d.waitForLog(
      (r) => r.audit === true && r.method === 'conflict.resolve' && (r.params as { conflictId?: string }).conflictId === id,
    );
    expect(rec).toMatchObject({ level: 30, caller: { uid: 65534, user: 'nobody', pid: expect.any(Number) }, token: false });

    const [alloc] = await callAs(NOBODY, d.socket, [{ method: 'port.allocate', params: { service: 'acc-audit' } }]);
    const token = ok(alloc).token as string;
    await callAs(STRANGER, d.socket, [{ method: 'service.unregister', params: { name: 'acc-audit', token } }]);
    const allocated = await d.waitForLog(
      (r) => r.audit === true && r.method === 'port.allocate' && (r.params as { service?: string }).service === 'acc-audit',
    );
    expect(allocated).toMatchObject({ level: 30, ok: true, caller: { uid: 65534 } });
    const withToken = await d.waitForLog(
      (r) => r.audit === true && r.method === 'service.unregister' && (r.params as { name?: string }).name === 'acc-audit',
    );
    expect(withToken).toMatchObject({ level: 30, ok: true, token: true, caller: { uid: 4242 } });
    // The token itself is never logged.
    expect(d.logs.some((r) => JSON.stringify(r).includes(token))).toBe(false);
  });
});

describe.skipIf(unavailable !== null)('the CLI', () => {
  let d: Daemon;
  beforeAll(async () => {
    d = await sharedDaemon();
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it('`whoami` says who the daemon takes you for; `token rotate` prints a new token that works and ends the old one', async () => {
    const who = await d.cli(['whoami']);
    expect(who.code).toBe(0);
    expect(who.stdout).toMatch(/^root \(uid 0\), admin, pid \d+\n  the kernel says so/);

    const [reg] = await callAs(NOBODY, d.socket, [{ method: 'service.register', params: { name: 'cli-tok', port: 24851 } }]);
    const old = ok(reg).token as string;
    const rotated = await d.cli(['token', 'rotate', 'cli-tok']);
    expect(rotated.code).toBe(0);
    const fresh = rotated.stdout.trim();
    expect(fresh).toMatch(/^pmt_/);
    const out = await callAs(STRANGER, d.socket, [
      { method: 'service.setPort', params: { name: 'cli-tok', port: 24852, token: old } },
      { method: 'service.setPort', params: { name: 'cli-tok', port: 24852, token: fresh } },
    ]);
    expect(out[0]?.error?.code).toBe(-32004);
    expect(ok(out[1])).toMatchObject({ port: 24852 });
    expect((await d.cli(['token', 'spin', 'cli-tok'])).code).toBe(2);
  });
});

describe.skipIf(unavailable !== null)('the file challenge, where the kernel cannot say who is calling', () => {
  let d: Daemon;
  beforeAll(async () => {
    // No `ss` on the daemon's PATH: the peer lookup fails, as it does off Linux.
    const bin = tempDir();
    passable(bin);
    d = await sharedDaemon({}, { PATH: bin });
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it('the client library proves its uid transparently', async () => {
    const out = await callAs(NOBODY, d.socket, [{ method: 'auth.whoami' }, { method: 'port.allocate', params: { service: 'ch-a' } }]);
    expect(ok(out[0])).toMatchObject({ uid: 65534, user: 'nobody', admin: false, via: 'challenge' });
    expect(ok(out[1])).toMatchObject({ service: 'ch-a', token: expect.any(String) });
    const svc = await d.client().service.get({ name: 'ch-a' });
    expect(svc.owner).toEqual({ uid: 65534, user: 'nobody' });
  });

  it('an unproven caller may not change anything; claiming another uid fails for want of its file', async () => {
    const out = await callAs(
      NOBODY,
      d.socket,
      [
        { method: 'port.allocate', params: { service: 'ch-b' } },
        { method: 'auth.challenge', params: { uid: 0 } },
        { method: 'auth.prove', params: { response: '0'.repeat(64) } },
        { method: 'auth.prove', params: { response: '0'.repeat(64) } },
      ],
      { authenticate: false },
    );
    expect(out[0]?.error).toMatchObject({ code: -32004, data: { reason: 'unidentified', challenge: true } });
    const challenge = ok(out[1]) as { file: string };
    expect(path.dirname(challenge.file)).toBe(path.join(d.dir, '.portmand-auth'));
    expect(out[2]?.error).toMatchObject({ code: -32004, data: { reason: 'wrong answer' } });
    expect(out[3]?.error).toMatchObject({ code: -32004, data: { reason: 'no challenge' } });
  });
});
