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
  const cells = [columns.map((c) => c.header.toUpperCase()), ...rows.map((row) => columns.map((c) => oneLine(formatValue(c.get(row)))))];
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
