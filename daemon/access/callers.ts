// Each connection's caller, established by the daemon, never taken from what
// the client says: on a socket only the daemon's user can open, that user;
// else the peer found in the kernel's tables (host/peer-cred.ts), looked up
// once, lazily, at the connection's first call that needs it; else whoever
// answers a file challenge (host/challenge.ts).
//
// The same place counts each user's connections (limits.maxConnectionsPerUser)
// once it knows whose they are, so that one user cannot hold every connection
// the daemon allows. Knowing costs a peer lookup; it is made for every new
// connection only once more connections are open than one user may hold:
// below that, no user can be over the cap. Connections that a lookup able to
// see every process (a root daemon's) finds nobody holding (a client passed
// its socket away with SCM_RIGHTS and closed its copy) share one count,
// capped as one user's: hiding is no way around the cap. A lookup that
// cannot tell counts nothing: that connection could be anyone, an admin too.
// A proof (auth.prove) moves a connection to its user's count.
import type net from 'node:net';
import type { Challenge } from '../../client/protocol.ts';
import { isAdmin, type AccessPolicy, type Caller } from '../core/access.ts';
import { DomainError, invalidParams } from '../core/errors.ts';
import { ErrorCode } from '../../client/protocol.ts';
import { answerMatches, ChallengeRefused, issueChallenge, removeChallenge, type IssuedChallenge } from '../host/challenge.ts';
import { UNHELD, type PeerAnswer } from '../host/peer-cred.ts';
import type { Connection, Refusal } from '../transport/server.ts';

/** How long a challenge file waits for its answer. */
const CHALLENGE_TTL_MS = 60_000;

/** The count of connections whose user could not be told. */
const UNIDENTIFIED = -1;

export interface CallersDeps {
  policy: AccessPolicy;
  /** The socket is the daemon user's alone (mode 0600): every caller is that user. */
  privateSocket: boolean;
  /** The peer, UNHELD when a lookup that sees every process found nobody holding it, null when it cannot tell. */
  peerOf(socket: net.Socket): Promise<PeerAnswer>;
  userName(uid: number): Promise<string | undefined>;
  groupsOf(uid: number): Promise<number[]>;
  /** Where challenge files are written: a directory of the daemon's that others may pass through. */
  challengeDir: string;
  /** limits.maxConnectionsPerUser: connections one user who is not an admin may hold; more are refused and closed. */
  maxConnectionsPerUser?: number;
  log?: { warn(o: object, m: string): void };
}

interface Slot {
  socket: net.Socket;
  caller: Caller | null;
  lookup: Promise<Caller | typeof UNHELD | null> | null;
  challenge: { issued: IssuedChallenge; uid: number; timer: NodeJS.Timeout } | null;
  /** The uid this connection is counted under, once known (admins are not counted). */
  counted: number | null;
  /** Why this connection was refused, once it was: every later call gets it too. */
  refused: DomainError | null;
}

export class Callers {
  readonly #slots = new Map<Connection, Slot>();
  /** Connections per uid, of callers who are not admins. */
  readonly #perUser = new Map<number, number>();

  constructor(private readonly deps: CallersDeps) {}

  get policy(): AccessPolicy {
    return this.deps.policy;
  }

  /** Called for each accepted connection, before it sends anything. */
  attach(conn: Connection, socket: net.Socket): void {
    this.#slots.set(conn, { socket, caller: null, lookup: null, challenge: null, counted: null, refused: null });
    const max = this.deps.maxConnectionsPerUser;
    // Past `max` connections in all, one user may be past it: find whose each is (one `ss` run serves a burst).
    if (max === undefined || this.deps.privateSocket || this.#slots.size <= max) return;
    for (const [c, slot] of this.#slots) if (!slot.caller && !slot.lookup) this.identify(c).catch(() => undefined);
  }

  /** The connection closed: its challenge file, if any, goes, and it no longer counts. */
  detach(conn: Connection): void {
    const slot = this.#slots.get(conn);
    if (!slot) return;
    if (slot.challenge) this.#dropChallenge(slot);
    this.#uncount(slot);
    this.#slots.delete(conn);
  }

  /** The caller, or null when the daemon cannot tell (then auth.challenge can establish it). */
  async identify(conn: Connection): Promise<Caller | null> {
    const slot = this.#slots.get(conn);
    if (!slot) return null;
    if (slot.refused) throw slot.refused;
    if (slot.caller) return slot.caller;
    if (this.deps.privateSocket) return (slot.caller = this.#daemonUser());
    slot.lookup ??= this.#lookup(slot);
    const found = await slot.lookup;
    if (slot.refused) throw slot.refused;
    // A challenge proven meanwhile wins: it is the newer word on this connection.
    if (!slot.caller) {
      if (found === UNHELD) this.#countUnidentified(conn, slot);
      else if (found) this.#settle(conn, slot, found);
    }
    return slot.caller;
  }

  /**
   * Makes `caller` this connection's, counted against its user's cap; a
   * caller past it is told so, its connection closed, and the call refused.
   */
  #settle(conn: Connection, slot: Slot, caller: Caller): void {
    // Closed while its peer was looked up (or its proof checked): detach() has run, so a count made now would never end.
    if (this.#slots.get(conn) !== slot) {
      slot.caller = caller;
      return;
    }
    const max = this.deps.maxConnectionsPerUser;
    if (slot.counted !== caller.uid) this.#uncount(slot);
    if (max !== undefined && slot.counted === null && !isAdmin(caller, this.deps.policy)) {
      this.#count(conn, slot, caller.uid, (held) => tooManyConnections(caller, held, max), {
        uid: caller.uid,
        user: caller.user,
        pid: caller.pid,
      });
    }
    slot.caller = caller;
  }

  /** Counts a connection nobody could be found holding in the pool of the unidentified, refusing it past the cap. */
  #countUnidentified(conn: Connection, slot: Slot): void {
    const max = this.deps.maxConnectionsPerUser;
    if (max === undefined || slot.counted !== null || this.#slots.get(conn) !== slot || slot.socket.destroyed) return;
    this.#count(conn, slot, UNIDENTIFIED, (held) => tooManyUnidentified(held, max), { unidentified: true });
  }

  /** Counts the connection under `key` (a uid, or UNIDENTIFIED); past the cap it is told `refusal`, closed, and the call refused. */
  #count(conn: Connection, slot: Slot, key: number, refusal: (held: number) => Refusal, logged: object): void {
    const max = this.deps.maxConnectionsPerUser!;
    const held = this.#perUser.get(key) ?? 0;
    if (held >= max) {
      const r = refusal(held);
      slot.refused = new DomainError(r.code as typeof ErrorCode.RateLimited, r.message, r.data);
      this.deps.log?.warn({ ...logged, held, max }, 'connection refused: limits.maxConnectionsPerUser');
      conn.refuse(r);
      throw slot.refused;
    }
    this.#perUser.set(key, held + 1);
    slot.counted = key;
  }

  #uncount(slot: Slot): void {
    if (slot.counted === null) return;
    const n = (this.#perUser.get(slot.counted) ?? 1) - 1;
    if (n > 0) this.#perUser.set(slot.counted, n);
    else this.#perUser.delete(slot.counted);
    slot.counted = null;
  }

  /** The caller already established on this connection, without looking anything up (for the audit log). */
  known(conn: Connection): Caller | null {
    return this.#slots.get(conn)?.caller ?? null;
  }

  /**
   * Who is on a socket outside the JSON-RPC server (the portserver's), once:
   * the daemon's user when only it can open that socket, else the peer.
   */
  async ofSocket(socket: net.Socket, privateSocket: boolean): Promise<Caller | null> {
    if (privateSocket) return this.#daemonUser();
    const peer = await this.#peer(socket);
    return peer === UNHELD ? null : peer;
  }

  async #lookup(slot: Slot): Promise<Caller | typeof UNHELD | null> {
    return slot.socket.destroyed ? null : this.#peer(slot.socket);
  }

  async #peer(socket: net.Socket): Promise<Caller | typeof UNHELD | null> {
    const peer = await this.deps.peerOf(socket);
    if (!peer || peer === UNHELD) return peer;
    const user = await this.deps.userName(peer.uid);
    return { uid: peer.uid, ...(user !== undefined && { user }), pid: peer.pid, gids: peer.gids, via: 'peer' };
  }

  #daemonUser(): Caller {
    const { daemonUid, daemonUser } = this.deps.policy;
    return { uid: daemonUid, ...(daemonUser !== undefined && { user: daemonUser }), gids: [], via: 'private-socket' };
  }

  /** Writes a secret that only `uid` can read; the client answers with auth.prove. One at a time per connection. */
  async challenge(conn: Connection, uid: number): Promise<Challenge> {
    const slot = this.#slots.get(conn);
    if (!slot)
      throw new DomainError(ErrorCode.PermissionDenied, 'permission denied: this connection cannot be challenged', {
        reason: 'unknown connection',
      });
    if (slot.challenge) this.#dropChallenge(slot);
    let issued: IssuedChallenge;
    try {
      issued = await issueChallenge(this.deps.challengeDir, uid);
    } catch (err) {
      if (err instanceof ChallengeRefused) throw invalidParams('uid', err.message);
      throw err;
    }
    if (slot.socket.destroyed) {
      await removeChallenge(issued);
      throw new DomainError(ErrorCode.PermissionDenied, 'permission denied: the connection closed', { reason: 'closed' });
    }
    const timer = setTimeout(() => slot.challenge?.issued === issued && this.#dropChallenge(slot), CHALLENGE_TTL_MS);
    timer.unref();
    slot.challenge = { issued, uid, timer };
    return { file: issued.file, nonce: issued.nonce };
  }

  /** Checks the answer to this connection's challenge; right, the connection's caller is that uid from now on. */
  async prove(conn: Connection, answer: string): Promise<Caller> {
    const slot = this.#slots.get(conn);
    const pending = slot?.challenge;
    if (!slot || !pending)
      throw new DomainError(
        ErrorCode.PermissionDenied,
        'permission denied: no challenge is open on this connection; ask auth.challenge first',
        { reason: 'no challenge' },
      );
    // One answer per challenge, right or wrong: guessing needs a new file each time.
    this.#dropChallenge(slot);
    if (!answerMatches(pending.issued, answer)) {
      throw new DomainError(ErrorCode.PermissionDenied, 'permission denied: wrong answer to the challenge', { reason: 'wrong answer' });
    }
    const [user, gids] = await Promise.all([this.deps.userName(pending.uid), this.deps.groupsOf(pending.uid)]);
    this.#settle(conn, slot, { uid: pending.uid, ...(user !== undefined && { user }), gids, via: 'challenge' });
    return slot.caller!;
  }

  #dropChallenge(slot: Slot): void {
    const c = slot.challenge;
    if (!c) return;
    slot.challenge = null;
    clearTimeout(c.timer);
    void removeChallenge(c.issued);
  }
}

/** Why a user's connection past limits.maxConnectionsPerUser is closed. */
function tooManyConnections(caller: Caller, held: number, max: number): Refusal {
  const who = caller.user ?? `uid ${caller.uid}`;
  return {
    code: ErrorCode.RateLimited,
    message: `too many connections: ${who} already holds ${held}, the most one user may (limits.maxConnectionsPerUser = ${max}); close connections you no longer use`,
    data: { limit: 'maxConnectionsPerUser', max, held, uid: caller.uid },
  };
}

/** Why a connection past the cap of the unidentified is closed. */
function tooManyUnidentified(held: number, max: number): Refusal {
  return {
    code: ErrorCode.RateLimited,
    message:
      `too many connections that no process holds: ${held} are open, the most one user may hold (limits.maxConnectionsPerUser = ${max}); ` +
      'connect from a process that keeps its socket open',
    data: { limit: 'maxConnectionsPerUser', max, held, unidentified: true },
  };
}
