// Listening sockets -> Scan, on a node-cron schedule and on demand.
import cron, { type ScheduledTask } from 'node-cron';
import type { Observation, Scan } from '../core/observation.ts';
import { cronPlan, isDue, type CronPlan } from './schedule.ts';

export { defaultScanSource } from '../host/scan/default-source.ts';

/** Where observations come from; a rejection is a failed scan. */
export type ScanSource = () => Promise<Observation[]>;

export interface ScannerOptions {
  source: ScanSource;
  intervalSec: number;
  now: () => number;
  /** Awaited inside the run, so a scanNow() caller sees the scan already ingested. */
  onScan: (scan: Scan) => void | Promise<void>;
  log: { warn(obj: object, msg: string): void; debug?(obj: object, msg: string): void };
}

/**
 * Runs never overlap. A scheduled tick that finds a run in progress is
 * skipped (that run is fresh enough); a scanNow() during a run waits for it
 * and then runs a fresh one, shared by every caller that asked meanwhile.
 */
export class Scanner {
  private readonly opts: ScannerOptions;
  private readonly plan: CronPlan;
  private task: ScheduledTask | null = null;
  private current: Promise<Scan> | null = null;
  private next: Promise<Scan> | null = null;
  private lastTickRunAt: number | null = null;
  private stopped = false;

  constructor(opts: ScannerOptions) {
    this.opts = opts;
    this.plan = cronPlan(opts.intervalSec);
  }

  /** Starts the schedule: the first scan at its next tick, at most one interval away (scanNow() for one at once). */
  start(): void {
    if (this.task) return;
    this.lastTickRunAt = this.opts.now();
    this.task = cron.schedule(this.plan.expression, () => this.tick(), {
      // A suspended laptop wakes to hundreds of missed ticks; they are not news.
      suppressMissedWarning: true,
      logger: {
        info: () => {},
        debug: () => {},
        warn: (msg) => this.opts.log.warn({}, `node-cron: ${msg}`),
        error: (msg) => this.opts.log.warn({ err: msg }, 'node-cron error'),
      },
    });
  }

  /** Stops the schedule and refuses new scans; resolves once the runs in progress (and their onScan) are over. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.task?.destroy();
    this.task = null;
    await Promise.allSettled([this.current, this.next]);
  }

  /** Scans now: waits for a run in progress, then runs a fresh one. Rejects if that run fails. */
  scanNow(): Promise<Scan> {
    if (this.stopped) return Promise.reject(new Error('the scanner is stopped'));
    if (!this.current) return this.begin();
    this.next ??= this.current.then(
      () => this.afterCurrent(),
      () => this.afterCurrent(),
    );
    return this.next;
  }

  private afterCurrent(): Promise<Scan> {
    this.next = null;
    return this.begin();
  }

  private async tick(): Promise<void> {
    const now = this.opts.now();
    if (this.plan.gated && !isDue(this.lastTickRunAt, now, this.opts.intervalSec, this.plan.tickMs)) return;
    if (this.current) {
      this.opts.log.debug?.({}, 'scan still running; scheduled scan skipped');
      return;
    }
    this.lastTickRunAt = now;
    await this.begin().catch(() => {}); // run() has logged it; the schedule goes on
  }

  private begin(): Promise<Scan> {
    const run: Promise<Scan> = this.run().finally(() => {
      if (this.current === run) this.current = null;
    });
    this.current = run;
    return run;
  }

  private async run(): Promise<Scan> {
    const at = this.opts.now();
    let listeners: Observation[];
    try {
      listeners = await this.opts.source();
    } catch (err) {
      this.opts.log.warn({ err }, 'scan failed');
      throw err;
    }
    // Not kept here: the reconciler keeps what is worth keeping of it, and the port index its listeners.
    const scan: Scan = { at, durationMs: this.opts.now() - at, listeners };
    try {
      await this.opts.onScan(scan);
    } catch (err) {
      this.opts.log.warn({ err }, 'scan handler failed');
      throw err;
    }
    return scan;
  }
}
