#!/usr/bin/env node
// The `portmand` command. Everything but process wiring lives in cli/main.ts.
import { shouldColor } from './cli/format.ts';
import { main } from './cli/main.ts';

const exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  color: shouldColor(process.stdout, process.env),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  env: process.env,
  now: () => Date.now(),
  untilStopped: () =>
    new Promise<void>((resolve) => {
      // Signal listeners alone do not keep Node running; this timer does.
      const hold = setInterval(() => {}, 1 << 30);
      const stop = () => {
        clearInterval(hold);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }),
});
process.exitCode = exitCode;
