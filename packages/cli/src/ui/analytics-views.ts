// Analytics in the terminal: a summary, a table of the daily series
// (cli-table3) and a chart of its main metric (asciichart). Plain text, no
// colors, so it reads the same in a pipe, a CI log or a README.
import asciichart from 'asciichart';
import Table from 'cli-table3';

export interface DailySeries {
  /** One line per fact above the table: "peak listeners: 7". */
  summary: [label: string, value: string | number][];
  columns: string[];
  rows: (string | number)[][];
  /** The series charted under the table, and what it is. */
  chart: { label: string; values: number[] };
}

export function renderAnalytics(title: string, view: DailySeries): string {
  const width = Math.max(...view.summary.map(([label]) => label.length)) + 1;
  const lines = [title, ...view.summary.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}${value}`), ''];
  const table = new Table({ head: view.columns, style: { head: [], border: [], compact: true } });
  for (const row of view.rows) table.push(row.map(String));
  lines.push(table.toString(), '');
  lines.push(...chart(view.chart.label, view.chart.values));
  return lines.join('\n');
}

function chart(label: string, values: number[]): string[] {
  if (values.length < 2) return [];
  // asciichart draws one column per point: a long range is averaged down to fit a terminal.
  const points = downsample(values, 90);
  const max = Math.max(...points);
  const plot = asciichart.plot(points, {
    height: max > 0 ? Math.min(10, Math.max(2, Math.ceil(max))) : 2,
    format: (x: number) => (Number.isInteger(max) && max < 1000 ? x.toFixed(0) : x.toFixed(1)).padStart(7),
  });
  const note = points.length < values.length ? ` (${values.length} days, averaged to ${points.length} columns)` : '';
  return [`${label} per day${note}`, plot];
}

function downsample(values: number[], columns: number): number[] {
  if (values.length <= columns) return values;
  const out: number[] = [];
  for (let i = 0; i < columns; i++) {
    const from = Math.floor((i * values.length) / columns);
    const to = Math.floor(((i + 1) * values.length) / columns);
    const slice = values.slice(from, Math.max(to, from + 1));
    out.push(slice.reduce((a, b) => a + b, 0) / slice.length);
  }
  return out;
}
