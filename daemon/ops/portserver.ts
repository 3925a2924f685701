// What a portserver request gets: a lease of its own, as port.allocate makes
// one, owned by the pid the client named (with that process's start time, so
// a reused pid does not keep it) and by that process's user. The reconciler
// releases it once the process has died, as it does every allocated lease
// whose owner died. Each answer is a new lease, named portserver-<pid>-<n>.
// Only the pid's own user (or an admin) may ask for it: anyone else could pin
// leases on a process that never dies (pid 1) in another user's name.
import { ErrorCode } from '../../client/protocol.ts';
import { isAdmin, type AccessPolicy, type Caller } from '../core/access.ts';
import { DomainError } from '../core/errors.ts';
import type { Registry } from '../registry.ts';
import type { Allocator } from './allocator.ts';
import { allocate } from './ports.ts';

export interface PortserverDeps {
  registry: Registry;
  allocator: Allocator;
  pidAlive(pid: number): boolean;
  /** The process's real and saved uids, or null when it does not run. */
  processUids(pid: number): Promise<number[] | null>;
  userName(uid: number): Promise<string | undefined>;
  /** Takes one mutation from the asker's rate limit; throws when it is spent. */
  limit(uid: number): void;
  /** limits.maxPortsPerUser: an asker who is not an admin gets no lease past it. */
  maxPortsPerUser: number;
  policy: AccessPolicy;
  log: { warn(o: object, m: string): void };
}

export class PortserverLeases {
  #next = 1;

  constructor(private readonly deps: PortserverDeps) {}

  /**
   * A new lease's port for `pid`, or 0: the asker (the connection's peer, null
   * when it cannot be told) is neither the pid's user nor an admin, the pid does
   * not run, the asker is over the rate limit, or no port is free.
   */
  async answer(pid: number, asker: Caller | null): Promise<number> {
    const { registry, allocator, log } = this.deps;
    if (!asker) {
      log.warn({ pid }, 'portserver: cannot tell who asks; answered 0');
      return 0;
    }
    const uids = this.deps.pidAlive(pid) ? await this.deps.processUids(pid) : null;
    if (!uids) {
      log.warn({ pid }, 'portserver: no such process; answered 0');
      return 0;
    }
    const uid = uids[0]!;
    const admin = isAdmin(asker, this.deps.policy);
    if (uid !== asker.uid && !admin) {
      log.warn({ pid, uid, askerUid: asker.uid }, "portserver: pid of another user's; answered 0");
      return 0;
    }
    try {
      this.deps.limit(asker.uid);
      const user = await this.deps.userName(uid);
      const service = this.#name(pid);
      // A lease is always new: a service that took the name meanwhile must not hand its port to this pid.
      const fresh = (state: Registry['state']) => {
        if (state.services[service]) throw new DomainError(ErrorCode.InvalidParams, `service ${service} exists`, {});
      };
      const owner = { uid, ...(user !== undefined && { user }) };
      const quota = admin ? {} : { quota: this.deps.maxPortsPerUser };
      return (await allocate(registry, allocator, { service, protocol: 'tcp', host: '0.0.0.0', pid, owner, ...quota }, fresh)).port;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      log.warn({ pid, code: err.code, reason: err.message }, 'portserver: no port given; answered 0');
      return 0;
    }
  }

  /** A name no service has: the counter starts again with each daemon, so names left from before are stepped over. */
  #name(pid: number): string {
    let name: string;
    do name = `portserver-${pid}-${this.#next++}`;
    while (this.deps.registry.state.services[name]);
    return name;
  }
}
