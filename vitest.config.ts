import { defineConfig } from 'vitest/config';

// Test files run two at a time (TEST_WORKERS overrides): most of a server or browser suite's wall
// time is waiting (timers, leases, an outage held for 30 s, a browser's rendering), which the
// other file fills. vitest's default on a 2-core machine is one.
const workers = Number(process.env.TEST_WORKERS ?? 2);

export default defineConfig({
  test: {
    maxWorkers: workers,
    projects: [
      {
        test: {
          name: 'node',
          include: ['{hub,schemas,simulators}/test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['hub/test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 90_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'dashboard',
          // Pure logic of the dashboard (stores, formatting, i18n, live protocol); the UI itself
          // is exercised in a real browser by hub/test/e2e-dashboard.test.ts.
          include: ['dashboard/test/**/*.test.ts'],
          environment: 'node',
        },
      },
    ],
  },
});
