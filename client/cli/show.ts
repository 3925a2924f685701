// Output for a verb: the daemon's raw result with --json, text otherwise.
import { escapeStrings, paint, type Paint } from './format.ts';
import type { Context } from './args.ts';

/**
 * Prints `result`: as JSON with --json, else as `human` draws it. `human` gets
 * a copy whose strings have their control characters escaped (text from other
 * users and the OS must not act on the terminal, and escaping first keeps
 * table widths right); draw from that copy, not from `result`.
 */
export function show<T>(ctx: Context, result: T, human: (safe: T, p: Paint) => string): void {
  ctx.io.out(ctx.json ? JSON.stringify(result, null, 2) : human(escapeStrings(result), terminalPaint(ctx)));
}

/** Colours and width for this run's terminal. */
export function terminalPaint(ctx: Context): Paint {
  return paint(ctx.io.color, ctx.io.columns);
}
