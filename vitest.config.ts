import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `@hds/source` condition, so tests run
// against source without a build step. Test files run in the `ssr` environment, global setup in `__vitest__`.
const resolve = {
  conditions: ['@hds/source', 'module', 'node', 'development|production'],
  externalConditions: ['@hds/source'],
};

export default defineConfig({
  resolve,
  ssr: { resolve },
  environments: { ssr: { resolve }, __vitest__: { resolve } },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'e2e/**/*.test.ts',
      'tools/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
    ],
    globalSetup: ['tools/test/global-setup.ts'],
    reporters: ['default', './tools/test/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    restoreMocks: true,
  },
});
