// Runs services' restart actions: on demand (service.restart), when the daemon
// moves a service's port, and after failed health checks. One service never
// has two runs at once: a request that comes while a run is in flight waits
// for one more run after it, shared by every request that comes meanwhile,
// so the last request always sees a run that started after it (with the
// port as it is then) and a burst of moves costs two runs, not one per move.
import { LIMITS, type RestartReason, type RestartResult } from '../../client/protocol.ts';
import { moveWhy, restartEnv, restartsOnMove, runError } from '../core/restart-policy.ts';
import type { EmittedEvent, ServiceRecord, State } from '../core/state.ts';
import type { RunCommand } from '../host/run-command.ts';

export type RestartOutcome = Omit<RestartResult, 'name'>;

/** Whom a command runs as: 'self' is the daemon's own user; null: nobody it may become (the command is not run). */
export type RunAs = (s: ServiceRecord) => { uid: number; gid: number } | 'self' | null;

export interface RestarterDeps {
  state: State;
  run: RunCommand;
  /** Sends a signal; returns the errno code on failure. */
  signal: (pid: number, signal: NodeJS.Signals) => string | null;
  /** The pid's start mark now, to tell the owner from a process that reused its pid. */
  pidStart: (pid: number) => Promise<string | null>;
  /** The uids the pid belongs to for kill(2) (real, saved); null when unknown. */
  pidUids: (pid: number) => Promise<readonly number[] | null>;
  /** The uid a service belongs to (its owner; the daemon's user for records from before owners). */
  ownerUid: (s: ServiceRecord) => number;
  publish: (e: EmittedEvent) => void;
  runAs: RunAs;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

interface Request {
  reason: RestartReason;
  previous?: number;
}

interface Slot {
  next: { request: Request; promise: Promise<RestartOutcome>; start: () => void } | null;
}

export class Restarter {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly deps: RestarterDeps) {}

  /** Runs `name`'s action now, or once more after the run in flight. */
  request(name: string, reason: RestartReason, previous?: number): Promise<RestartOutcome> {
    const slot = this.slots.get(name);
    if (!slot) {
      const fresh: Slot = { next: null };
      this.slots.set(name, fresh);
      return this.runThenNext(name, fresh, { reason, ...(previous !== undefined && { previous }) });
    }
    this.deps.log.debug({ service: name, reason }, 'restart coalesced');
    if (slot.next) return slot.next.promise;
    let start!: () => void;
    const gate = new Promise<void>((r) => (start = r));
    const request = { reason, ...(previous !== undefined && { previous }) };
    const promise = gate.then(() => this.runThenNext(name, slot, request));
    slot.next = { request, promise, start };
    return promise;
  }

  /**
   * Called with every published event: a port change of a service whose
   * policy asks for it starts a restart (not awaited; its outcome is an event).
   */
  observe(e: EmittedEvent): void {
    if (e.type !== 'port_assigned' || e.data.previous === undefined) return;
    const { service: name, port, previous } = e.data;
    const s = this.deps.state.services[name];
    // The history is looked at only for a service with an action: bulk registration never pays for it.
    if (!s?.restart || s.port !== port || !restartsOnMove(s, moveWhy(this.deps.state.history, name, port))) return;
    void this.request(name, 'port_changed', previous);
  }

  private async runThenNext(name: string, slot: Slot, req: Request): Promise<RestartOutcome> {
    try {
      return await this.execute(name, req);
    } finally {
      const next = slot.next;
      slot.next = null;
      if (next) next.start();
      else this.slots.delete(name);
    }
  }

  private async execute(name: string, req: Request): Promise<RestartOutcome> {
    const s = this.deps.state.services[name];
    if (!s) return { restarted: false, error: 'the service was unregistered' };
    if (!s.restart) return { restarted: false, error: 'no restart action is configured for this service' };
    let outcome: RestartOutcome;
    try {
      outcome = 'signal' in s.restart ? await this.signal(s, s.restart.signal) : await this.command(s, s.restart, req.previous);
    } catch (err) {
      // A bug here must not leave a caller without an answer, nor crash the daemon.
      this.deps.log.warn({ err, service: name }, 'restart failed unexpectedly');
      outcome = { restarted: false, error: 'internal error running the restart action' };
    }
    this.deps.publish({
      type: 'service_restarted',
      data: {
        service: name,
        port: s.port,
        reason: req.reason,
        ok: outcome.restarted,
        ...(outcome.exitCode !== undefined && { exitCode: outcome.exitCode }),
        ...(outcome.error !== undefined && { error: outcome.error }),
      },
    });
    return outcome;
  }

  private async signal(s: ServiceRecord, signal: NodeJS.Signals): Promise<RestartOutcome> {
    const pid = s.pid;
    // Never init, never the daemon: a pid is whatever a client said it was.
    if (pid === undefined || pid <= 1 || pid === process.pid) return { restarted: false, error: 'the service has no process to signal' };
    if (s.pidStart !== undefined) {
      const start = await this.deps.pidStart(pid);
      if (start !== s.pidStart) return { restarted: false, error: `process ${pid} is not the service's owner any more` };
    }
    // The daemon may be root and the pid is whatever a client (or a token's holder) said: signal only a
    // process the service's owner could signal itself, never someone else's (root may signal any).
    const owner = this.deps.ownerUid(s);
    if (owner !== 0) {
      const uids = await this.deps.pidUids(pid);
      if (uids === null || !uids.includes(owner))
        return { restarted: false, error: `process ${pid} does not belong to the service's owner (uid ${owner})` };
    }
    const failed = this.deps.signal(pid, signal);
    this.deps.log.info({ service: s.name, pid, signal, ...(failed && { error: failed }) }, 'restart signal sent');
    return failed === null ? { restarted: true } : { restarted: false, error: `cannot signal process ${pid}: ${failed}` };
  }

  private async command(
    s: ServiceRecord,
    action: Extract<ServiceRecord['restart'], { command: string[] }>,
    previous: number | undefined,
  ): Promise<RestartOutcome> {
    const as = this.deps.runAs(s);
    if (as === null)
      return { restarted: false, error: "the daemon does not run as root, so it cannot run a command as the service's owner" };
    const timeoutSec = action.timeoutSec ?? LIMITS.restartTimeoutDefaultSec;
    const o = await this.deps.run({
      argv: action.command,
      ...(action.cwd !== undefined && { cwd: action.cwd }),
      env: restartEnv(s, action.env, previous),
      timeoutMs: timeoutSec * 1000,
      ...(as !== 'self' && as),
    });
    const error = runError(o, timeoutSec);
    const record = {
      service: s.name,
      command: action.command,
      exitCode: o.exitCode,
      signal: o.signal,
      stdout: o.stdout,
      stderr: o.stderr,
      ...(o.droppedBytes > 0 && { droppedBytes: o.droppedBytes }),
    };
    if (error === undefined) this.deps.log.info(record, 'restart command ran');
    else this.deps.log.warn({ ...record, error }, 'restart command failed');
    return { restarted: error === undefined, ...(o.exitCode !== null && { exitCode: o.exitCode }), ...(error !== undefined && { error }) };
  }
}
