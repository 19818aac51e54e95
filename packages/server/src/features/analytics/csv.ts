// The CSV export: `date,metric,value`, one row per day and metric, streamed
// in chunks so a year (or a podcast with many episodes) never becomes one
// string in memory.

import type { CsvRow } from './service.js';

const ROWS_PER_CHUNK = 1000;

export function csvStream(rows: readonly CsvRow[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = -1;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === -1) {
        controller.enqueue(encoder.encode('date,metric,value\n'));
        i = 0;
        return;
      }
      if (i >= rows.length) {
        controller.close();
        return;
      }
      let text = '';
      for (const end = Math.min(rows.length, i + ROWS_PER_CHUNK); i < end; i++) {
        const [date, metric, value] = rows[i]!;
        text += `${date},${csvField(metric)},${value ?? ''}\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
  });
}

/** Metric names are ours (letters, `_`, `:` and ids), but quote anything a spreadsheet could misread. */
function csvField(text: string): string {
  return /^[A-Za-z0-9_:.-]*$/.test(text) && !/^[=+\-@]/.test(text) ? text : `"${text.replace(/"/g, '""')}"`;
}

/** True when the request asks for CSV: `format=csv`, or an Accept header that prefers text/csv to JSON. */
export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  if (!accept) return false;
  const types = accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type!.trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((t) => t.q > 0);
  const csv = types.find((t) => t.type === 'text/csv');
  const json = types.find((t) => t.type === 'application/json' || t.type === '*/*' || t.type === 'application/*');
  return csv !== undefined && (!json || csv.q >= json.q);
}
