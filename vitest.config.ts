import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests each start real daemons and spend much of their time waiting on them
    // (scans, hold-offs, restarts): three files at once kept two cores busier. Measured on
    // 2 cores, each order: 3 workers 125 s and 130 s against 2 workers 138 s and 142 s.
    maxWorkers: 3,
    // Each worker loads the client, daemon and vitest modules once, not once per file: this
    // halved the suite's CPU time. Files still get their own module instance and hooks;
    // a test that changes process state (umask, env, timers) restores it.
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
