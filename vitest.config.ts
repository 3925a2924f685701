import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests each start real daemons; two cores run two files at once.
    maxWorkers: 2,
    // Each worker loads the client, daemon and vitest modules once, not once per file: this
    // halved the suite's CPU time. Files still get their own module instance and hooks;
    // a test that changes process state (umask, env, timers) restores it.
    isolate: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
