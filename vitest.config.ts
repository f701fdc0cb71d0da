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
    ],
  },
});
