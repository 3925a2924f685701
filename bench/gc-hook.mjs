// Preloaded into the daemon by the bench only (node --expose-gc --import):
// on SIGUSR2 it reports process.memoryUsage() before and after a forced
// garbage collection, and the V8 heap spaces after it, as one marked line
// on stderr. The daemon itself has no such hook.
import v8 from 'node:v8';

/**
 * V8 gives the pages a collection freed back to the OS from a background
 * task after gc() returns: RSS read in the same turn still counts them
 * (measured: 97 MiB at once, 87 MiB a millisecond later and from then on).
 */
const SETTLE_MS = 250;

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  globalThis.gc?.();
  globalThis.gc?.();
  setTimeout(() => {
    const after = process.memoryUsage();
    const spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
    );
    const heap = v8.getHeapStatistics();
    process.stderr.write(`BENCH-MEMORY ${JSON.stringify({ before, after, spaces, heap })}\n`);
  }, SETTLE_MS);
});
