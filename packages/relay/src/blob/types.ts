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
  etag?: string;
  lastModified?: Date;
}

export interface ByteRange {
  start: number;
  /** Inclusive end offset; omitted means to the end of the object. */
  end?: number;
}

/**
 * Where media lives: a local folder by default, S3 (or any S3-compatible
 * store) in production. Keys are slash-separated and never start with "/".
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<BlobHead>;
  get(key: string, range?: ByteRange): Promise<{ body: Readable; head: BlobHead } | null>;
  head(key: string): Promise<BlobHead | null>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  /**
   * A URL a player can fetch directly (S3 presigned GET). Local storage
   * returns null: the server serves those objects itself with its own
   * HMAC-signed URLs.
   */
  presignedGetUrl(key: string, expiresInSeconds: number): Promise<string | null>;
}
