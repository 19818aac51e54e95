import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { addAbortSignal, pipeline, Readable, Transform } from 'node:stream';
import { abortError, BlobRangeError } from './errors.js';
import { assertValidKey, assertValidPrefix, assertValidRange } from './keys.js';
import type { BlobHead, BlobStore, ByteRange, GetResult, PutOptions } from './types.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Defaults to us-east-1 (most S3-compatible stores ignore it but the signer needs one). */
  region?: string;
  /** For S3-compatible stores (MinIO, R2, s3rver...); omitted means AWS. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Both or neither; neither means the SDK's default chain (IRSA, instance role...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Prepended to every key, e.g. "djcast/" to share a bucket. */
  prefix?: string;
  /** Multipart part size for streamed puts; S3's minimum and the default is 5 MiB. */
  partSize?: number;
  /** Parts uploaded in parallel for streamed puts (default 4). */
  queueSize?: number;
  /** Keys per ListObjectsV2 page and per DeleteObjects call (default and maximum 1000). */
  pageSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
/** ListObjectsV2 pages and DeleteObjects calls hold at most this many keys. */
const MAX_PAGE = 1000;
/** SigV4 presigned URLs cannot live longer than 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * S3 or any S3-compatible store. Streamed puts go through lib-storage's
 * multipart Upload; an abort or a failing source stream aborts the multipart
 * upload so no object (and no orphaned parts) remain.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly keyPrefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number;

  constructor(opts: S3BlobStoreOptions) {
    if (!opts.bucket) throw new Error('S3BlobStore needs a bucket');
    if (Boolean(opts.accessKeyId) !== Boolean(opts.secretAccessKey)) {
      throw new Error('S3BlobStore needs both accessKeyId and secretAccessKey, or neither');
    }
    if (opts.prefix) assertValidPrefix(opts.prefix);
    this.bucket = opts.bucket;
    this.keyPrefix = opts.prefix ? (opts.prefix.endsWith('/') ? opts.prefix : `${opts.prefix}/`) : '';
    this.partSize = Math.max(opts.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.queueSize = opts.queueSize ?? 4;
    this.pageSize = Math.min(Math.max(opts.pageSize ?? MAX_PAGE, 1), MAX_PAGE);
    const config: S3ClientConfig = { region: opts.region ?? 'us-east-1' };
    if (opts.endpoint) {
      config.endpoint = opts.endpoint;
      // Third-party stores often reject the newer default CRC checksums; send them only when S3 requires one.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
    if (opts.accessKeyId && opts.secretAccessKey) {
      config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.keyPrefix + key;
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions = {}): Promise<BlobHead> {
    const Key = this.objectKey(key);
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    const params = {
      Bucket: this.bucket,
      Key,
      ...(options.contentType !== undefined && { ContentType: options.contentType }),
      ...(options.cacheControl !== undefined && { CacheControl: options.cacheControl }),
    };

    let size = 0;
    let etag: string | undefined;
    try {
      if (body instanceof Readable) {
        // Counting through a PassThrough also gives the abort a stream to destroy: the
        // Upload then fails from inside, waits for its in-flight parts and aborts the
        // multipart upload before done() rejects (Upload.abort() would reject at once
        // and clean up later, racing our caller).
        const counted = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            size += chunk.length;
            callback(null, chunk);
          },
        });
        if (signal) addAbortSignal(signal, counted);
        // Errors reach the Upload through `counted`; pipeline also destroys the source on abort.
        pipeline(body, counted, () => {});
        const upload = new Upload({
          client: this.client,
          params: { ...params, Body: counted },
          partSize: this.partSize,
          queueSize: this.queueSize,
          leavePartsOnError: false,
        });
        etag = (await upload.done()).ETag;
      } else {
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        size = bytes.byteLength;
        const out = await this.client.send(
          new PutObjectCommand({ ...params, Body: bytes }),
          signal ? { abortSignal: signal } : {},
        );
        etag = out.ETag;
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw error;
    }
    if (signal?.aborted) {
      // The abort came while S3 was committing the object: honour it.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
      throw abortError(signal);
    }
    const head: BlobHead = { size };
    if (etag !== undefined) head.etag = etag;
    if (options.contentType !== undefined) head.contentType = options.contentType;
    if (options.cacheControl !== undefined) head.cacheControl = options.cacheControl;
    return head;
  }

  async get(key: string, range?: ByteRange): Promise<GetResult | null> {
    const Key = this.objectKey(key);
    if (range) assertValidRange(range);
    let out;
    try {
      out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, ...(range && { Range: `bytes=${range.start}-${range.end ?? ''}` }) }),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      if (range && statusOf(error) === 416) throw new BlobRangeError(key, (await this.head(key))?.size ?? 0);
      throw error;
    }
    if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned a body that is not a Node stream');
    const head: BlobHead = { size: out.ContentLength ?? 0 };
    if (out.ContentType !== undefined) head.contentType = out.ContentType;
    if (out.CacheControl !== undefined) head.cacheControl = out.CacheControl;
    if (out.ETag !== undefined) head.etag = out.ETag;
    if (out.LastModified !== undefined) head.lastModified = out.LastModified;
    if (!range) return { body: out.Body, head };
    const parsed = parseContentRange(out.ContentRange);
    if (!parsed) {
      // A store that ignored the Range header sent the whole object.
      out.Body.destroy();
      throw new Error(`S3 answered a ranged GET of ${JSON.stringify(key)} without Content-Range`);
    }
    head.size = parsed.total;
    return { body: out.Body, head, range: { start: parsed.start, end: parsed.end } };
  }

  async head(key: string): Promise<BlobHead | null> {
    const Key = this.objectKey(key);
    let out;
    try {
      out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const head: BlobHead = { size: out.ContentLength ?? 0 };
    if (out.ContentType !== undefined) head.contentType = out.ContentType;
    if (out.CacheControl !== undefined) head.cacheControl = out.CacheControl;
    if (out.ETag !== undefined) head.etag = out.ETag;
    if (out.LastModified !== undefined) head.lastModified = out.LastModified;
    return head;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix.length === 0) throw new Error('deletePrefix refuses the empty prefix (it would delete every object)');
    assertValidPrefix(prefix);
    let batch: string[] = [];
    const flush = async () => {
      const out = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      batch = [];
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(`S3 refused to delete ${failed.length} object(s), first ${first?.Key}: ${first?.Code} ${first?.Message}`);
      }
    };
    for await (const page of paginateListObjectsV2(
      { client: this.client, pageSize: this.pageSize },
      { Bucket: this.bucket, Prefix: this.keyPrefix + prefix },
    )) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        batch.push(object.Key);
        if (batch.length === this.pageSize) await flush();
      }
    }
    if (batch.length > 0) await flush();
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.client, pageSize: this.pageSize },
      { Bucket: this.bucket, Prefix: this.keyPrefix + prefix },
    )) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) keys.push(object.Key.slice(this.keyPrefix.length));
      }
    }
    return keys;
  }

  async presignedGetUrl(key: string, expiresInSeconds: number): Promise<string | null> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`expiresInSeconds must be an integer between 1 and ${MAX_PRESIGN_SECONDS}`);
    }
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
      expiresIn: expiresInSeconds,
    });
  }

  /** Releases the HTTP agent's sockets. */
  destroy(): void {
    this.client.destroy();
  }
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function isNotFound(error: unknown): boolean {
  // Not a bare 404: NoSuchBucket is a configuration error and must surface.
  // HEAD responses carry no body, so the SDK can only call them NotFound.
  return error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound');
}

function parseContentRange(value: string | undefined): { start: number; end: number; total: number } | null {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value ?? '');
  if (!match) return null;
  return { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) };
}
