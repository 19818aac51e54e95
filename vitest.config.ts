import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 * - `unit`: everything that runs without FFmpeg, Icecast or clamd installed
 *   (`pnpm vitest run --project unit`);
 * - `integration`: `*.int.test.ts`, the tests that drive those tools for real; the
 *   global setup checks the tools are installed for this project only.
 * A test that needs one of the tools is named `*.int.test.ts`.
 */
const INCLUDE = ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'deploy/**/*.test.ts', 'examples/**/*.test.ts'];
const INTEGRATION = ['**/*.int.test.ts'];
const INCLUDE_INTEGRATION = INCLUDE.map((glob) => glob.replace(/\*\.test\.ts$/, '*.int.test.ts'));

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
        test: { name: 'unit', include: INCLUDE, exclude: ['**/node_modules/**', '**/dist/**', ...INTEGRATION] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INCLUDE_INTEGRATION,
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['./test/global-setup.ts'],
        },
      },
    ],
  },
});
