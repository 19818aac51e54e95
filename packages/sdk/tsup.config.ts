import { defineConfig } from 'tsup';

// ESM (dist/index.js) and CJS (dist/index.cjs) with declarations for both
// (index.d.ts, index.d.cts), matching package.json "exports".
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  platform: 'neutral',
  target: 'es2022',
  tsconfig: 'tsconfig.build.json',
});
