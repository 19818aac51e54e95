import { defineConfig } from 'vitest/config';

// Two projects:
// - `unit`: the tests beside the code (packages/*/src/**/*.test.ts), which need
//   neither FFmpeg, Icecast nor clamd, nor a running server process
//   (`pnpm vitest run --project unit`, about a minute on two cores);
// - `integration`: *.int.test.ts anywhere (they drive those tools for real) and the
//   whole-app, CLI, SDK, docs and example tests under packages/*/test, examples and
//   deploy. The global setup checks the tools for this project only.
const UNIT = ['packages/*/src/**/*.test.ts'];
const INTEGRATION = [
  'packages/*/src/**/*.int.test.ts',
  'packages/*/test/**/*.test.ts',
  'deploy/**/*.test.ts',
  'examples/**/*.test.ts',
];

// Workspace packages expose a "source" export condition pointing at their
// TypeScript sources, so tests run against src/ without a build step.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: UNIT, exclude: ['**/node_modules/**', '**/dist/**', '**/*.int.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['./test/global-setup.ts'],
        },
      },
    ],
  },
});
