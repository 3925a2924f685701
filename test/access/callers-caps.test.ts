// Callers' count of connections per user (limits.maxConnectionsPerUser), with
// a fake peer lookup: which connections it looks up, when, and which it refuses.
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Callers } from '../../daemon/access/callers.ts';
import { UNHELD, type PeerAnswer } from '../../daemon/host/peer-cred.ts';
import type { Connection, Refusal } from '../../daemon/transport/server.ts';

const NOBODY = 65534;

function conn(id: number): Connection & { refused: Refusal[] } {
  const refused: Refusal[] = [];
  return { id, subscriptions: new Set(), closed: false, notify() {}, close() {}, refuse: (e) => void refused.push(e), refused };
}

/** Callers over sockets whose peers are given by `uids` (by connection id); counts the lookups. */
/** `uids` by connection id: a uid, 'unheld' (a root lookup found nobody holding it), or null (the lookup cannot tell). */
function callers(privateSocket: boolean, uids: Record<number, number | 'unheld' | null>, gate: Promise<void> = Promise.resolve()) {
  const looked: number[] = [];
  const sockets = new Map<net.Socket, number>();
  const c = new Callers({
    policy: { daemonUid: 0, adminGid: null },
    privateSocket,
    peerOf: async (socket): Promise<PeerAnswer> => {
      const id = sockets.get(socket)!;
      looked.push(id);
      await gate;
      const uid = uids[id];
      return uid === 'unheld' ? UNHELD : uid === null || uid === undefined ? null : { pid: 1000 + id, uid, gids: [] };
    },
    userName: async () => undefined,
    groupsOf: async () => [],
    challengeDir: '/nonexistent',
    maxConnectionsPerUser: 2,
  });
  const open = (id: number) => {
    const socket = { destroyed: false } as net.Socket;
    sockets.set(socket, id);
    const k = conn(id);
    c.attach(k, socket);
    return k;
  };
  return { c, looked, open };
}

const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('connections per user', () => {
  it('connections whose lookup cannot tell (not Linux, ss failed, a daemon that is not root) are not pooled: they could be anyone', async () => {
    const { c, open } = callers(false, { 1: null, 2: null, 3: null, 4: null });
    const conns = [open(1), open(2), open(3), open(4)];
    await settled();
    expect(conns.flatMap((k) => k.refused)).toEqual([]);
    for (const k of conns) expect(await c.identify(k)).toBeNull();
  });

  it('connections nobody can be found holding share one cap: hiding the socket is no way around it', async () => {
    // 1-3 were passed away (SCM_RIGHTS): a lookup that sees every process finds nobody holding them; 4 is another user's.
    const { c, open } = callers(false, { 1: 'unheld', 2: 'unheld', 3: 'unheld', 4: 1000, 5: 'unheld' });
    const hidden = [open(1), open(2), open(3)];
    await settled();
    const refused = hidden.filter((k) => k.refused.length > 0);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.refused[0]).toMatchObject({
      code: -32005,
      data: { limit: 'maxConnectionsPerUser', max: 2, held: 2, unidentified: true },
    });
    expect(refused[0]!.refused[0]!.message).toMatch(/no process holds.*keeps its socket open/);
    const other = open(4);
    await settled();
    expect(other.refused).toEqual([]);
    expect(await c.identify(other)).toMatchObject({ uid: 1000 });
    // One that goes makes room for another.
    c.detach(hidden.find((k) => k.refused.length === 0)!);
    const again = open(5);
    await settled();
    expect(again.refused).toEqual([]);
  });

  it('on a private socket looks nothing up and limits nobody: every caller is the daemon user', async () => {
    const { c, looked, open } = callers(true, {});
    const conns = [1, 2, 3, 4, 5].map(open);
    for (const k of conns) expect(await c.identify(k)).toMatchObject({ uid: 0 });
    expect(looked).toEqual([]);
    expect(conns.flatMap((k) => k.refused)).toEqual([]);
  });

  it('looks up every connection, without waiting for a call, once more are open than one user may hold; refuses a user past its cap', async () => {
    const { c, looked, open } = callers(false, { 1: NOBODY, 2: NOBODY, 3: NOBODY, 4: 1000, 5: NOBODY });
    const [a, b] = [open(1), open(2)];
    await settled();
    // Two connections: nobody can be past a cap of two, so nothing is looked up yet.
    expect(looked).toEqual([]);
    const third = open(3);
    await settled();
    expect(looked.sort()).toEqual([1, 2, 3]);
    const refused = [a, b, third].filter((k) => k.refused.length > 0);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.refused[0]).toMatchObject({ code: -32005, data: { limit: 'maxConnectionsPerUser', max: 2, held: 2, uid: NOBODY } });
    await expect(c.identify(refused[0]!)).rejects.toMatchObject({ code: -32005 });
    // Another user is counted apart.
    const other = open(4);
    await settled();
    expect(other.refused).toEqual([]);
    expect(await c.identify(other)).toMatchObject({ uid: 1000 });
    // A connection that goes makes room again.
    c.detach(refused[0]!);
    c.detach([a, b, third].find((k) => k.refused.length === 0)!);
    const again = open(5);
    await settled();
    expect(again.refused).toEqual([]);
    expect(await c.identify(again)).toMatchObject({ uid: NOBODY });
  });

  it('does not count a connection that closed while its peer was looked up: its user is not locked out by connections long gone', async () => {
    let lookupsEnd!: () => void;
    const gate = new Promise<void>((resolve) => (lookupsEnd = resolve));
    const { c, open } = callers(false, { 1: NOBODY, 2: NOBODY, 3: NOBODY, 4: NOBODY, 5: NOBODY, 6: NOBODY }, gate);
    // Three short-lived connections (a CLI call each): looked up at accept, closed before the lookup ends.
    const gone = [open(1), open(2), open(3)];
    await settled();
    for (const k of gone) c.detach(k);
    lookupsEnd();
    await settled();
    // Nobody holds no connection now: of three new ones, only the one past the cap of two is refused.
    const fresh = [open(4), open(5), open(6)];
    await settled();
    expect(fresh.filter((k) => k.refused.length > 0)).toHaveLength(1);
  });
});
