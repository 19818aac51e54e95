// Helpers the listener rows share: waiting on a condition, medians and their
// spread; the /proc figures come from proc.mjs.

import { sleep } from './proc.mjs';

// One copy of the /proc readers and the port finder: proc.mjs.
export { cpuSeconds, freePort, rssBytes, sleep } from './proc.mjs';

export async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} (waited ${ms} ms)`);
    await sleep(100);
  }
}

/** Median, min and max of numbers. */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1) };
}

export const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
export const spread = (s, digits = 2) => `${round(s.min, digits)}..${round(s.max, digits)}`;
