// A restart action's env values and cwd are not for every caller who can
// connect: lists, results and events show "***" for them (names stay), and
// service.get shows them only to the service's owner or an admin. Against a
// root daemon on a shared socket, with clients running as other users.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortmandEvent } from '../../client/client.ts';
import { callAs, otherUsersUnavailable, passable, type Outcome } from './access-users.ts';
import { cleanup, startDaemon, tempDir, useDaemon, type Daemon } from './harness.ts';

const ACTION = { command: ['/bin/true', '--flag'], cwd: '/tmp', env: { TOKEN: 's3cret', MODE: 'fast' } };
const HIDDEN = { command: ['/bin/true', '--flag'], cwd: '***', env: { TOKEN: '***', MODE: '***' } };

const ok = (o: Outcome | undefined) => {
  expect(o?.error).toBeUndefined();
  return o!.ok as { restart?: unknown } & Array<{ name: string; restart?: unknown }>;
};

const daemon = useDaemon();

describe('restart env and cwd, for the daemon user alone', () => {
  it('are hidden in the result, the list and the event, and shown by service.get', async () => {
    const pm = daemon().client();
    const events: PortmandEvent[] = [];
    pm.on('service_registered', (e) => events.push(e));
    await pm.events.subscribe({ types: ['service_registered'] });
    const reg = await pm.service.register({ name: 'rd-own', restart: ACTION });
    expect(reg.restart).toEqual(HIDDEN);
    expect((await pm.service.list()).find((s) => s.name === 'rd-own')?.restart).toEqual(HIDDEN);
    expect((await pm.service.get({ name: 'rd-own' })).restart).toEqual(ACTION);
    await pm.daemon.ping(); // the event was sent before this answer
    expect(events.map((e) => (e.data as { restart?: unknown }).restart)).toEqual([HIDDEN]);
    expect((await daemon().cliInProcess(['show', 'rd-own', '--json'])).stdout).toContain('s3cret');
    expect((await daemon().cliInProcess(['list', '--json'])).stdout).not.toContain('s3cret');
  });
});

const unavailable = otherUsersUnavailable();
if (unavailable) console.log(`restart redaction tests with other users skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('restart env and cwd on a shared socket', () => {
  let d: Daemon;
  beforeAll(async () => {
    const dir = tempDir();
    passable(dir);
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ socket: { mode: '0666' } }));
    d = await startDaemon({ dir, env: { PORTMAND_CONFIG: config } });
  });
  afterAll(async () => {
    await d?.stop();
    if (d) cleanup(d.dir);
  });

  it('are shown to the owner and root by service.get, and never to another user or in lists', async () => {
    const [reg, ownGet, ownList] = await callAs({ user: 'nobody' }, d.socket, [
      { method: 'service.register', params: { name: 'rd-nobody', restart: ACTION } },
      { method: 'service.get', params: { name: 'rd-nobody' } },
      { method: 'service.list', params: {} },
    ]);
    expect(ok(reg).restart).toEqual(HIDDEN);
    expect(ok(ownGet).restart).toEqual(ACTION);
    expect(ok(ownList).find((s) => s.name === 'rd-nobody')?.restart).toEqual(HIDDEN);

    const [otherGet, otherList] = await callAs({ uid: 4242 }, d.socket, [
      { method: 'service.get', params: { name: 'rd-nobody' } },
      { method: 'service.list', params: {} },
    ]);
    expect(ok(otherGet).restart).toEqual(HIDDEN);
    expect(JSON.stringify(ok(otherList))).not.toContain('s3cret');

    expect((await d.client().service.get({ name: 'rd-nobody' })).restart).toEqual(ACTION);
  });
});
