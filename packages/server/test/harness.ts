// Kept so existing imports of './harness.js' work; the harness lives in src/testing (`@djcast/server/testing`).
export * from '../src/testing/index.js';
