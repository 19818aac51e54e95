// Calendar days in UTC as `YYYY-MM-DD` strings: the unit of every aggregate.

export interface DayRange {
  /** First day, inclusive. */
  from: string;
  /** Last day, inclusive. */
  to: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The longest range a request may ask for: a leap year, both ends included. */
export const MAX_RANGE_DAYS = 366;

export const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

export function addDays(day: string, n: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00.000Z`) + n * DAY_MS));
}

/** Every day from `from` to `to`, both included (empty when from > to). */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00.000Z`), end = Date.parse(`${to}T00:00:00.000Z`); t <= end; t += DAY_MS) {
    out.push(dayOf(new Date(t)));
  }
  return out;
}

/** True for a real calendar day written as YYYY-MM-DD (2025-02-30 is not one). */
export function isCalendarDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const t = Date.parse(`${text}T00:00:00.000Z`);
  return Number.isFinite(t) && dayOf(new Date(t)) === text;
}

/** Days in the range, both ends included. */
export const rangeLength = (range: DayRange): number =>
  Math.round((Date.parse(`${range.to}T00:00:00Z`) - Date.parse(`${range.from}T00:00:00Z`)) / DAY_MS) + 1;
