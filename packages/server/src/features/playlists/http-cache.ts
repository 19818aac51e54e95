// Conditional GET and If-Range for the playback routes (RFC 9110 §13),
// pure so the rules can be tested as data. ETags are strong: the bytes of a
// given playlist content version never change.

export interface Validators {
  /** Strong entity tag, quoted. */
  etag: string;
  lastModified: Date;
}

export interface ConditionalHeaders {
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifRange?: string | undefined;
}

/** HTTP dates have whole seconds. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

function tags(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** True when the client's copy is current: answer 304. If-None-Match wins over If-Modified-Since. */
export function isNotModified(h: ConditionalHeaders, v: Validators): boolean {
  if (h.ifNoneMatch !== undefined) {
    const list = tags(h.ifNoneMatch);
    // Weak comparison for If-None-Match: W/"x" matches "x".
    return list.includes('*') || list.some((t) => t.replace(/^W\//, '') === v.etag);
  }
  if (h.ifModifiedSince !== undefined) {
    const since = Date.parse(h.ifModifiedSince);
    return Number.isFinite(since) && seconds(v.lastModified) <= Math.floor(since / 1000);
  }
  return false;
}

/** Whether a Range request may be honoured given If-Range; false means send the whole body with 200. */
export function rangeAllowed(h: ConditionalHeaders, v: Validators): boolean {
  if (h.ifRange === undefined) return true;
  const value = h.ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag; // strong comparison only
  const date = Date.parse(value);
  return Number.isFinite(date) && seconds(v.lastModified) === Math.floor(date / 1000);
}
