#!/usr/bin/env node
// The `portmand` command. Everything but process wiring lives in cli/main.ts.
import { shouldColor } from './cli/format.ts';
import { main } from './cli/main.ts';

// `portmand api | head`: once the reader is gone nothing more can be shown, and that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

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
