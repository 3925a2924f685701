// The health monitor: runs the HTTP and TCP probes of registered services on
// a schedule (each service's intervalSec, else PORTMAND_HEALTH_INTERVAL) and
// on demand, and owns their results. Each service has at most one probe in
// flight; a probe is aborted when its service goes away or its check changes,
// and its result then is dropped. Slots are shared fairly (health/slots.ts).
import cron, { type ScheduledTask } from 'node-cron';
import type { HealthResult } from '../../client/protocol.ts';
import {
  checkEffects,
  checkTarget,
  dueForCheck,
  latestResults,
  sameTarget,
  thresholdsOf,
  type CheckTarget,
  type ProbeOutcome,
  type Thresholds,
} from '../core/health.ts';
import type { EmittedEvent } from '../core/state.ts';
import { ProbeSlots, DEFAULT_SLOT_LIMITS, type Priority, type SlotLimits } from './slots.ts';
import type { HealthProbe } from '../host/health-probe.ts';
import type { Registry } from '../registry.ts';

export interface HealthOptions {
  registry: Registry;
  probe: HealthProbe;
  intervalSec: number;
  log: { warn(obj: object, msg: string): void };
  slots?: SlotLimits;
  /** The config's `health` defaults for every check's thresholds. */
  thresholds?: Partial<Pick<Thresholds, 'failuresBeforeUnhealthy' | 'successesBeforeHealthy'>>;
  /** Called when a service's failed checks reach its restartAfterFailures. */
  onRestartDue?: (name: string) => void;
}

/** What the routes may ask of the monitor. */
export interface HealthResults {
  /** The latest result per service, with its recent history. */
  readonly results: ReadonlyMap<string, HealthResult>;
  /** Checks the named services now (all with a check when none are named), each within its own timeoutMs. */
  checkNow(names?: string[]): Promise<HealthResult[]>;
}

/** The abort reason of a probe whose result nobody wants any more: it is dropped, not recorded. */
const GONE = new Error('health check withdrawn');

interface Run {
  target: CheckTarget;
  controller: AbortController;
  promise: Promise<HealthResult | null>;
  deadline?: ReturnType<typeof setTimeout>;
}

export class HealthMonitor implements HealthResults {
  private readonly latest = new Map<string, HealthResult>();
  private readonly lastCheckedAt = new Map<string, number>();
  /** Services whose last probe outlasted the fast lane: scheduled after the others. */
  private readonly slow = new Set<string>();
  private readonly runs = new Map<string, Run>();
  private readonly slots: ProbeSlots;
  private readonly slowAfterMs: number;
  private task: ScheduledTask | null = null;
  private stopped = false;

  constructor(private readonly opts: HealthOptions) {
    // The results persisted before a restart are the latest until the next check.
    for (const [name, r] of latestResults(opts.registry.state)) this.latest.set(name, r);
    this.slots = new ProbeSlots(opts.slots ?? DEFAULT_SLOT_LIMITS);
    this.slowAfterMs = (opts.slots ?? DEFAULT_SLOT_LIMITS).slowAfterMs;
  }

  get results(): ReadonlyMap<string, HealthResult> {
    return this.latest;
  }

  /** Ticks every second (HEALTH_TICK_MS) and checks whatever is due. */
  start(): void {
    if (this.task || this.stopped) return;
    this.task = cron.schedule('* * * * * *', () => this.checkDue(), {
      suppressMissedWarning: true,
      logger: { info: () => {}, debug: () => {}, warn: () => {}, error: (msg) => this.opts.log.warn({ err: msg }, 'node-cron error') },
    });
  }

  /** Stops the schedule, aborts every probe and resolves once none can write any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.task?.destroy();
    this.task = null;
    const running = [...this.runs.values()];
    for (const run of running) run.controller.abort(GONE);
    await Promise.allSettled(running.map((r) => r.promise));
  }

  /**
   * Called with every published event: a probe of a service that went away,
   * or whose check changed, is aborted (its connection closed) and forgotten.
   */
  observe(e: EmittedEvent): void {
    if (e.type !== 'service_unregistered' && e.type !== 'service_registered') return;
    // Only the named service: bulk registration must not cost a pass over every check.
    const { name } = e.data;
    const s = this.opts.registry.state.services[name];
    const run = this.runs.get(name);
    if (run && !sameTarget(s ? checkTarget(s) : null, run.target)) run.controller.abort(GONE);
    if (!s?.healthCheck) this.forget(name);
  }

  async checkNow(names?: string[]): Promise<HealthResult[]> {
    if (this.stopped) return [];
    const { state } = this.opts.registry;
    const targets =
      names ??
      Object.values(state.services)
        .filter((s) => s.healthCheck)
        .map((s) => s.name);
    const results = await Promise.all(targets.map((n) => this.begin(n, 'asked')?.promise ?? null));
    return results.filter((r): r is HealthResult => r !== null);
  }

  private checkDue(): void {
    if (this.stopped) return;
    const { registry, intervalSec } = this.opts;
    this.forgetGone();
    const due = dueForCheck(registry.state, this.lastCheckedAt, registry.now(), intervalSec).filter((n) => !this.runs.has(n));
    for (const name of due) {
      this.begin(name, this.slow.has(name) ? 'slow' : 'scheduled')?.promise.catch((err: Error) =>
        this.opts.log.warn({ err, service: name }, 'health check failed'),
      );
    }
  }

  /**
   * Starts a probe of `name`, or joins the one in flight. A caller who asked
   * gets an answer within the check's timeoutMs from now: waiting for a slot
   * counts, and the run is cut short at that deadline.
   */
  private begin(name: string, priority: Priority): Run | null {
    let run = this.runs.get(name);
    if (!run) {
      const s = this.opts.registry.state.services[name];
      const target = s ? checkTarget(s) : null;
      if (!target) return null;
      const controller = new AbortController();
      const started: Run = { target, controller, promise: Promise.resolve(null) };
      started.promise = this.execute(name, target, priority, controller).finally(() => {
        clearTimeout(started.deadline);
        if (this.runs.get(name) === started) this.runs.delete(name);
      });
      this.runs.set(name, started);
      run = started;
    }
    if (priority === 'asked' && run.deadline === undefined) {
      const { controller } = run;
      const ms = run.target.timeoutMs;
      run.deadline = setTimeout(() => controller.abort(new Error(`no answer within ${ms} ms`)), ms);
    }
    return run;
  }

  private async execute(name: string, target: CheckTarget, priority: Priority, controller: AbortController): Promise<HealthResult | null> {
    const { registry } = this.opts;
    const signal = controller.signal;
    let outcome: ProbeOutcome;
    try {
      const lease = await this.slots.acquire(priority, signal, () =>
        controller.abort(new Error(`no answer within ${this.slowAfterMs} ms while too many slow checks run`)),
      );
      const t0 = performance.now();
      try {
        this.lastCheckedAt.set(name, registry.now());
        outcome = await this.opts.probe(target, signal);
      } finally {
        lease.release();
      }
      if (performance.now() - t0 > this.slowAfterMs) this.slow.add(name);
      else this.slow.delete(name);
    } catch (reason) {
      // Aborted while waiting for a slot: a deadline is an answer, anything else is not.
      if (reason === GONE || !(reason instanceof Error)) return null;
      this.lastCheckedAt.set(name, registry.now());
      outcome = { ok: false, latencyMs: null, error: reason.message };
    }
    if (this.stopped || signal.reason === GONE) return null;
    const fx = await registry.mutate((tx) => {
      const s = tx.state.services[name];
      // Unregistered or changed while probing: this result is about something that no longer exists.
      if (!s || !sameTarget(checkTarget(s), target)) return null;
      const effects = checkEffects(tx.state, name, outcome, registry.now(), thresholdsOf(s.healthCheck!, this.opts.thresholds ?? {}));
      if (effects) tx.apply(effects);
      return effects;
    });
    if (!fx) return null;
    this.latest.set(name, fx.result);
    // Once durable, like every other consequence of a change.
    if (fx.restart) this.opts.onRestartDue?.(name);
    return fx.result;
  }

  private forgetGone(): void {
    const { state } = this.opts.registry;
    for (const name of [...this.latest.keys(), ...this.lastCheckedAt.keys()]) {
      if (!state.services[name]?.healthCheck) this.forget(name);
    }
  }

  private forget(name: string): void {
    this.latest.delete(name);
    this.lastCheckedAt.delete(name);
    this.slow.delete(name);
  }
}
