import { BlobKeyError } from './errors.js';
import type { ByteRange } from './types.js';

/** S3's own limit; the local store keeps it so both accept the same keys. */
const MAX_KEY_BYTES = 1024;
/** NAME_MAX on common filesystems. */
const MAX_SEGMENT_BYTES = 255;
/**
 * The local store keeps metadata and temp files under this top-level folder,
 * so no key may start with it. S3 refuses it too, to keep the stores interchangeable.
 */
export const RESERVED_TOP_SEGMENT = '.djcast-blob';

// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\]/;

/**
 * Throws BlobKeyError unless `key` is a relative slash-separated path whose
 * segments are all non-empty and none is "." or "..". Both stores apply it,
 * which is what makes path traversal impossible in the local store.
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new BlobKeyError(String(key), 'must be a non-empty string');
  checkSegments(key, key.split('/'));
}

/**
 * A prefix for list/deletePrefix: "" (everything), a folder ("a/b/") or a
 * partial name ("a/seg-00"). Every complete folder segment must be valid; the
 * trailing partial name is only a filter and obeys the character rules.
 */
export function assertValidPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new BlobKeyError(String(prefix), 'must be a string');
  if (prefix.length === 0) return;
  checkCharacters(prefix);
  const folders = prefix.split('/').slice(0, -1);
  if (folders.length > 0) checkSegments(prefix, folders);
}

function checkCharacters(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new BlobKeyError(key, `longer than ${MAX_KEY_BYTES} bytes`);
  if (FORBIDDEN_CHARS.test(key)) throw new BlobKeyError(key, 'contains a control character or backslash');
  if (key.startsWith('/')) throw new BlobKeyError(key, 'must not start with "/"');
}

function checkSegments(key: string, segments: string[]): void {
  checkCharacters(key);
  segments.forEach((segment, i) => {
    if (segment.length === 0) throw new BlobKeyError(key, 'has an empty path segment');
    if (segment === '.' || segment === '..') throw new BlobKeyError(key, `has a "${segment}" segment`);
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      throw new BlobKeyError(key, `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    if (i === 0 && segment === RESERVED_TOP_SEGMENT) throw new BlobKeyError(key, `"${RESERVED_TOP_SEGMENT}" is reserved`);
  });
}

export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`Range start must be a non-negative integer, got ${start}`);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new RangeError(`Range end must be an integer >= start, got ${end}`);
  }
}

/** UTF-8 byte order, the order S3 lists keys in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
