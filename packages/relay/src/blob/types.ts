import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
  /** Aborts the write; a write that is aborted or fails leaves no object behind. */
  signal?: AbortSignal;
}

export interface BlobHead {
  size: number;
  contentType?: string;
  cacheControl?: string;
  etag?: string;
  lastModified?: Date;
}

export interface ByteRange {
  start: number;
  /** Inclusive end offset; omitted means to the end of the object. */
  end?: number;
}

export interface GetOptions {
  /**
   * How many bytes the returned body reads ahead and hands out per chunk (a
   * stream highWaterMark), for callers that hold many bodies open at once:
   * each open body keeps about this much in memory. Default 64 KiB (Node's
   * default for file streams). A hint: LocalBlobStore honours it; S3BlobStore
   * ignores it (the body is the AWS SDK's HTTP response stream).
   */
  highWaterMark?: number;
}

export interface GetResult {
  body: Readable;
  /** `size` is the whole object's size, also for a ranged get. */
  head: BlobHead;
  /** Present for a ranged get: the bytes actually returned, end inclusive and clamped to the object. */
  range?: { start: number; end: number };
}

/**
 * Where media lives: a local folder by default, S3 (or any S3-compatible
 * store) in production. Keys are slash-separated and never start with "/".
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<BlobHead>;
  /**
   * Null when the object does not exist; a range starting past the end throws BlobRangeError.
   * `options` is optional and may be ignored by a store (see GetOptions).
   */
  get(key: string, range?: ByteRange, options?: GetOptions): Promise<GetResult | null>;
  head(key: string): Promise<BlobHead | null>;
  delete(key: string): Promise<void>;
  /** Deletes every key starting with `prefix`; refuses the empty prefix. */
  deletePrefix(prefix: string): Promise<void>;
  /** Every key starting with `prefix` (a plain string prefix), in UTF-8 byte order. */
  list(prefix: string): Promise<string[]>;
  /**
   * A URL a player can fetch directly (S3 presigned GET). Local storage
   * returns null: the server serves those objects itself with its own
   * HMAC-signed URLs.
   */
  presignedGetUrl(key: string, expiresInSeconds: number): Promise<string | null>;
}
