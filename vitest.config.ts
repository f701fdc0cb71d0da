import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
