// Repeats, medians and the spread, and how figures are printed.

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** { median, min, max, values } of numbers. */
export function summarize(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
}

/**
 * Runs `fn(i)` `n` times in a row and returns its results; when `fn` returns an object,
 * `summary(key)` gives the median and spread of one of its numeric fields.
 */
export async function repeat(n, fn) {
  const results = [];
  for (let i = 0; i < n; i++) results.push(await fn(i));
  return {
    results,
    summary: (key) => summarize(results.map((r) => (typeof key === 'function' ? key(r) : r[key]))),
  };
}

/** A number with a sensible number of digits: 14000 -> "14.0k", 0.2934 -> "0.293". */
export function fmt(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  const abs = Math.abs(n);
  if (abs >= 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

export const spread = (s) => `${fmt(s.min)}..${fmt(s.max)}`;

/**
 * A row from two summaries. `higherIsBetter`: the ratio is figure/peer (req/s, MB/s);
 * otherwise peer/figure (seconds), so a ratio of 1 is "as good as the peer" either way.
 * `goal` is the least ratio that meets it.
 */
export function compareRow({ what, unit, djcast, peer, peerName, higherIsBetter = true, goal, goalText, note = '' }) {
  const ratio = higherIsBetter ? djcast.median / peer.median : peer.median / djcast.median;
  const met = goal === null || goal === undefined ? null : ratio >= goal;
  return {
    what,
    unit,
    figure: djcast.median,
    spread: spread(djcast),
    peer: peerName,
    peerFigure: peer.median,
    peerSpread: spread(peer),
    ratio,
    goal: goalText ?? `>= ${goal?.toFixed(2)} of peer`,
    met,
    note,
  };
}
