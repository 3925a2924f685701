// Output for a verb: the daemon's raw result with --json, text otherwise.
import { paint, type Paint } from './format.ts';
import type { Context } from './args.ts';

export function show<T>(ctx: Context, result: T, human: (p: Paint) => string): void {
  ctx.io.out(ctx.json ? JSON.stringify(result, null, 2) : human(paint(ctx.io.color)));
}
