import { describe, expect, it } from 'vitest';
import {
  commandUser,
  isAdmin,
  ownerOf,
  refusal,
  restartRefusal,
  type AccessPolicy,
  type Caller,
  type Target,
} from '../../daemon/core/access.ts';

const policy: AccessPolicy = { daemonUid: 999, daemonUser: 'portmand', adminGid: 50 };
const caller = (uid: number, gids: number[] = []): Caller => ({ uid, gids, via: 'peer' });
const svc = (owner?: number, tokenHash?: string): Target => ({
  kind: 'service',
  name: 'web',
  ...(owner !== undefined && { owner: { uid: owner } }),
  ...(tokenHash && { tokenHash }),
});

describe('isAdmin', () => {
  it.each([
    ['root', caller(0), true],
    ["the daemon's user", caller(999), true],
    ['a member of the admin group', caller(1000, [100, 50]), true],
    ['anyone else', caller(1000, [100]), false],
  ])('%s: %s', (_n, c, admin) => expect(isAdmin(c, policy)).toBe(admin));
  it('no admin group configured: group membership counts for nothing', () => {
    expect(isAdmin(caller(1000, [50]), { ...policy, adminGid: null })).toBe(false);
  });
});

describe('refusal', () => {
  it.each([
    ['the owner', caller(1000), [svc(1000)], [], null],
    ['another user', caller(1001), [svc(1000)], [], -32004],
    ['another user with the token', caller(1001), [svc(1000, 'h1')], ['h1'], null],
    ['another user with a wrong token', caller(1001), [svc(1000, 'h1')], ['h2'], -32004],
    ['an admin', caller(0), [svc(1000)], [], null],
    ['nothing to act on', caller(1001), [], [], null],
    ["a record from before owners: the daemon's user's", caller(1001), [svc()], [], -32004],
    ['the daemon user on such a record', caller(999), [svc()], [], null],
    ['a swap: both must be allowed', caller(1001), [svc(1001), { ...svc(1000), name: 'db' }], [], -32004],
  ])('%s', (_n, c, targets, presented, code) => {
    const r = refusal(c, targets as Target[], presented as string[], policy);
    expect(r?.code ?? null).toBe(code);
  });
  it('names the service and its owner in data', () => {
    expect(refusal(caller(1001), [svc(1000)], [], policy)?.data).toEqual({ service: 'web', owner: { uid: 1000 } });
    expect(refusal(caller(1001), [{ kind: 'reservation', port: 8080 }], [], policy)?.data).toEqual({
      port: 8080,
      owner: { uid: 999, user: 'portmand' },
    });
  });
});

describe('ownerOf', () => {
  it("gives records without an owner to the daemon's user", () => {
    expect(ownerOf({}, policy)).toEqual({ uid: 999, user: 'portmand' });
    expect(ownerOf({ owner: { uid: 5 } }, policy)).toEqual({ uid: 5 });
  });
});

// A restart command runs as the service's owner: a token moves or restarts a service, it does not run code as its owner.
describe('restartRefusal', () => {
  const alice: Caller = { ...caller(1000, [1000]), user: 'alice' };
  const bob: Caller = { ...caller(1001, [1001]), user: 'bob' };
  const root: Caller = { ...caller(0, [0]), user: 'root' };
  it.each([
    ['the owner', alice, { owner: { uid: 1000, user: 'alice' } }, null],
    ['an admin', root, { owner: { uid: 1000, user: 'alice' } }, null],
    ['anyone, for a service not yet registered (the caller will own it)', bob, undefined, null],
    ['someone else, token or not', bob, { owner: { uid: 1000, user: 'alice' } }, 'only its owner or root may set one'],
    // Admin-group members may move anyone's service, but a command would run as its owner: as root for a root-owned one.
    ['an admin-group member, on a root-owned service', caller(1002, [50]), { owner: { uid: 0, user: 'root' } }, 'only its owner or root'],
    ["an admin-group member, on someone else's", caller(1002, [50]), { owner: { uid: 1000, user: 'alice' } }, 'only its owner or root'],
    ['an admin-group member, on its own', caller(1002, [50]), { owner: { uid: 1002 } }, null],
    ['someone else, on a record from before owners (the daemon user owns it)', bob, {}, 'portmand'],
    ['a caller the daemon could not identify', undefined, { owner: { uid: 1000 } }, 'not identified'],
  ] as const)('%s', (_, caller, service, problem) => {
    const said = restartRefusal(caller, service, policy);
    if (problem === null) expect(said).toBeNull();
    else expect(said).toContain(problem);
  });
});

describe('commandUser', () => {
  it.each([
    ["the daemon's user owns it", { owner: { uid: 999 } }, false, 'self'],
    ['a record from before owners (the daemon user owns it)', {}, false, 'self'],
    ['another user, root daemon: becomes the owner', { owner: { uid: 1000 } }, true, { uid: 1000 }],
    ['another user, per-user daemon: runs nothing, never as the daemon user', { owner: { uid: 1000 } }, false, null],
  ] as const)('%s', (_, service, root, as) => expect(commandUser(service, policy, root)).toEqual(as));
  it('a root daemon runs a root-owned service as root, and nothing of a non-root owner as root', () => {
    const rootPolicy = { ...policy, daemonUid: 0 };
    expect(commandUser({ owner: { uid: 0 } }, rootPolicy, true)).toBe('self');
    expect(commandUser({}, rootPolicy, true)).toBe('self');
    expect(commandUser({ owner: { uid: 1000 } }, rootPolicy, true)).toEqual({ uid: 1000 });
  });
});
