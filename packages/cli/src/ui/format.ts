// Pure text rendering for human output: aligned tables for lists, "key: value"
// blocks for one object. No colors here; callers decide.

export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
}

export type Field<T> = Column<T>;

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(formatValue).join(', ') : '-';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length ? entries.map(([k, v]) => `${k}=${formatValue(v)}`).join(', ') : '-';
  }
  return String(value);
}

/** Columns padded to their widest cell, two spaces apart, header first; no trailing spaces. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((row) => columns.map((c) => oneLine(formatValue(c.get(row))))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => width(line[i]!))));
  return cells
    .map((line) =>
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One object as aligned "key: value" lines. */
export function renderRecord<T>(record: T, fields: readonly Field<T>[]): string {
  const keyWidth = Math.max(...fields.map((f) => width(f.header) + 1));
  return fields.map((f) => `${`${f.header}:`.padEnd(keyWidth)} ${formatValue(f.get(record))}`.trimEnd()).join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function width(text: string): number {
  return [...text].length;
}

/** Bytes in binary units, one decimal from KiB on: 512 B, 1.5 KiB, 48.3 MiB, 1.2 GiB (the units of the upload record and the server's limits). */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A duration for an ETA: 45s, 3m 05s, 1h 02m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The text after an upload's bar: "12.0 MiB of 48.3 MiB  2.4 MiB/s  ETA 15s".
 * Rate and ETA are left out until there is a rate to go on (the first half
 * second, or nothing sent yet).
 */
export function transferStatus(sent: number, total: number, elapsedMs: number): string {
  const parts = [`${formatBytes(sent)} of ${formatBytes(total)}`];
  if (elapsedMs >= 500 && sent > 0) {
    const rate = sent / (elapsedMs / 1000);
    parts.push(`${formatBytes(rate)}/s`);
    parts.push(sent >= total ? 'done' : `ETA ${formatDuration((total - sent) / rate)}`);
  }
  return parts.join('  ');
}
