// Who may act on what: pure decisions over a caller the shell identified
// (daemon/access/callers.ts) and the owner a record carries. Token hashes
// come in already computed: hashing is the shell's business.
import type { Owner, WhoAmI } from '../../client/protocol.ts';
import { permissionDenied, type DomainError } from './errors.ts';

/** A connection's caller as the daemon established it; never what the client claimed. */
export interface Caller {
  uid: number;
  user?: string;
  pid?: number;
  /** The caller's groups (effective gid first), for the admin group. */
  gids: readonly number[];
  via: NonNullable<WhoAmI['via']>;
}

export interface AccessPolicy {
  /** The daemon's own uid: its user is an admin, and owns what was recorded before owners were. */
  daemonUid: number;
  daemonUser?: string;
  /** Config `access.adminGroup`, resolved to its gid; null when none is configured. */
  adminGid: number | null;
}

/** Something a mutating call acts on, with what was recorded about who may. */
export type Target =
  | { kind: 'service'; name: string; owner?: Owner; tokenHash?: string }
  | { kind: 'reservation'; port: number; owner?: Owner; tokenHash?: string };

/** Admin: uid 0, the daemon's own uid, or a member of the admin group. */
export function isAdmin(caller: Caller, policy: AccessPolicy): boolean {
  if (caller.uid === 0 || caller.uid === policy.daemonUid) return true;
  return policy.adminGid !== null && caller.gids.includes(policy.adminGid);
}

/** A record's owner; records from before owners existed belong to the daemon's user. */
export function ownerOf(record: { owner?: Owner }, policy: AccessPolicy): Owner {
  return record.owner ?? { uid: policy.daemonUid, ...(policy.daemonUser !== undefined && { user: policy.daemonUser }) };
}

/** The Owner recorded for what a caller creates. */
export function ownerFor(caller: Caller): Owner {
  return { uid: caller.uid, ...(caller.user !== undefined && { user: caller.user }) };
}

/**
 * The first target the caller may not act on, as the -32004 to throw, or
 * null when every one is allowed: the caller owns it, is an admin, or
 * presented its token (`presented`: hashes of the tokens the call carried).
 */
export function refusal(
  caller: Caller,
  targets: readonly Target[],
  presented: readonly string[],
  policy: AccessPolicy,
): DomainError | null {
  if (isAdmin(caller, policy)) return null;
  for (const t of targets) {
    const owner = ownerOf(t, policy);
    if (owner.uid === caller.uid) continue;
    if (t.tokenHash !== undefined && presented.includes(t.tokenHash)) continue;
    const who = owner.user ?? `uid ${owner.uid}`;
    return t.kind === 'service'
      ? permissionDenied(`service "${t.name}" belongs to ${who}; only its owner, an admin, or a caller with its token may change it`, {
          service: t.name,
          owner,
        })
      : permissionDenied(
          `the reservation of port ${t.port} belongs to ${who}; only its owner, an admin, or a caller with its token may change it`,
          { port: t.port, owner },
        );
  }
  return null;
}

/**
 * Why this caller may not set a restart action on `service` (undefined: a new
 * service, which the caller will own), or null. The command runs as the
 * service's owner, so only the owner or root may set it: an admin-group member
 * may move anyone's service, but setting a command would run code as its owner
 * (as root for a root-owned one); and a token lets its holder move or restart a
 * service, not run code as its owner.
 */
export function restartRefusal(caller: Caller | undefined, service: { owner?: Owner } | undefined, policy: AccessPolicy): string | null {
  if (!caller) return 'the caller is not identified';
  if (caller.uid === 0 || service === undefined) return null;
  const o = ownerOf(service, policy);
  if (o.uid === caller.uid) return null;
  return `a restart action runs as the service's owner (${o.user ?? `uid ${o.uid}`}), so only its owner or root may set one; neither the admin group nor a token is enough`;
}

/**
 * Whom a service's restart command runs as: 'self' (the daemon's own user,
 * when that is the owner), the owner's uid (a root daemon switches to it), or
 * null: the owner is another user and a daemon that is not root cannot become
 * them, so it must not run the command at all (as itself, it would hand any
 * caller of a shared socket the daemon user's rights).
 */
export function commandUser(service: { owner?: Owner }, policy: AccessPolicy, daemonIsRoot: boolean): 'self' | { uid: number } | null {
  const { uid } = ownerOf(service, policy);
  if (uid === policy.daemonUid) return 'self';
  return daemonIsRoot ? { uid } : null;
}

export function whoami(caller: Caller, policy: AccessPolicy): WhoAmI {
  return {
    uid: caller.uid,
    ...(caller.user !== undefined && { user: caller.user }),
    ...(caller.pid !== undefined && { pid: caller.pid }),
    admin: isAdmin(caller, policy),
    via: caller.via,
  };
}
