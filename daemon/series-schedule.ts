// When the time series are written and pruned: a row at the start of every
// minute, and pruning at fixed wall-clock times (minute rows hourly, hour rows
// nightly), on node-cron. Wall-clock times, not intervals: a prune should
// happen at 03:15 whenever the daemon started, and a minute row should cover a
// calendar minute.
import cron, { type ScheduledTask } from 'node-cron';
import type { HealthResult, Range } from '../client/protocol.ts';
import { pruneCutoffs } from './core/series.ts';
import { recordSeries } from './ops/series.ts';
import type { Registry } from './registry.ts';

export const SERIES_SCHEDULE = {
  record: '0 * * * * *',
  pruneMinutes: '30 0 * * * *',
  pruneHours: '0 15 3 * * *',
} as const;

export interface SeriesScheduleOptions {
  registry: Registry;
  /** The configured ranges, each a series. */
  ranges: readonly Range[];
  /** The latest health result per service, with its recent history. */
  health: () => Iterable<HealthResult>;
  log: { warn(obj: object, msg: string): void };
}

export class SeriesSchedule {
  private readonly tasks: ScheduledTask[] = [];
  /** Writes under way: stop() waits for them, so none reaches a closed store. */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly opts: SeriesScheduleOptions) {}

  start(): void {
    const every = (expression: string, run: () => Promise<void>, what: string) =>
      this.tasks.push(
        cron.schedule(expression, () => this.track(run().catch((err: Error) => this.opts.log.warn({ err }, what))), {
          suppressMissedWarning: true,
          logger: { info: () => {}, debug: () => {}, warn: () => {}, error: (msg) => this.opts.log.warn({ err: msg }, 'node-cron error') },
        }),
      );
    every(SERIES_SCHEDULE.record, () => this.record(), 'time series row not written');
    every(SERIES_SCHEDULE.pruneMinutes, () => this.prune('minutes'), 'time series prune failed');
    every(SERIES_SCHEDULE.pruneHours, () => this.prune('all'), 'time series prune failed');
  }

  /** Stops the schedule and waits for a write under way. */
  async stop(): Promise<void> {
    for (const t of this.tasks.splice(0)) void t.stop();
    await Promise.all(this.running);
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  record(): Promise<void> {
    return recordSeries(this.opts.registry, this.opts.ranges, this.opts.health);
  }

  /** Minute rows older than 24 h; with 'all' also hour rows older than 90 days. */
  prune(which: 'minutes' | 'all'): Promise<void> {
    const { registry } = this.opts;
    return registry.mutate((tx) => {
      if (!tx.state.series) return;
      const cut = pruneCutoffs(registry.now());
      tx.apply({
        ops: [{ op: 'seriesPrune', value: { minuteBefore: cut.minuteBefore, hourBefore: which === 'all' ? cut.hourBefore : 0 } }],
        events: [],
      });
    });
  }
}
