// Mapping a scan interval in seconds onto node-cron's 6-field expressions.
//
// Cron steps only space evenly when they divide their field: `*/7` in the
// seconds field fires at :00, :07, ... :56 and again at :00, four seconds
// later. So an interval that divides 60 s (or 60 min, or 24 h) maps exactly;
// any other interval ticks at the largest step that divides both it and the
// field (90 s ticks every 30 s, 7 s every second) and a tick runs a scan only
// once the interval has elapsed since the last scheduled one (`isDue`).

export interface CronPlan {
  expression: string;
  /** True when ticks are finer than the interval and `isDue` must gate them. */
  gated: boolean;
  tickMs: number;
}

/** The cron plan for an interval of `intervalSec` whole seconds (>= 1). */
export function cronPlan(intervalSec: number): CronPlan {
  if (!Number.isInteger(intervalSec) || intervalSec < 1) {
    throw new RangeError(`scan interval must be a whole number of seconds >= 1, got ${intervalSec}`);
  }
  if (intervalSec < 60 || intervalSec % 60 !== 0) {
    const step = gcd(intervalSec, 60);
    return { expression: `${every(step)} * * * * *`, gated: step !== intervalSec, tickMs: step * 1000 };
  }
  const minutes = intervalSec / 60;
  if (minutes < 60 || minutes % 60 !== 0) {
    const step = gcd(minutes, 60);
    return { expression: `0 ${every(step)} * * * *`, gated: step !== minutes, tickMs: step * 60_000 };
  }
  const hours = minutes / 60;
  const step = gcd(hours, 24);
  return { expression: `0 0 ${every(step)} * * *`, gated: step !== hours, tickMs: step * 3_600_000 };
}

/**
 * Whether a gated tick at `now` should scan. Half a tick of slack absorbs
 * timer lateness, so a scan that fired a few ms late does not push the next
 * one a whole tick back.
 */
export function isDue(lastRunAt: number | null, now: number, intervalSec: number, tickMs: number): boolean {
  return lastRunAt === null || now - lastRunAt >= intervalSec * 1000 - tickMs / 2;
}

function every(step: number): string {
  return step === 1 ? '*' : `*/${step}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
