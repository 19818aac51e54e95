import { z } from 'zod';
import { LocalBlobStore } from './local.js';
import type { S3BlobStoreOptions } from './s3.js';
import type { BlobStore } from './types.js';

export type { BlobHead, BlobStore, ByteRange, GetOptions, GetResult, PutOptions } from './types.js';
export { BlobKeyError, BlobRangeError } from './errors.js';
export { assertValidKey, assertValidPrefix } from './keys.js';
export { LocalBlobStore } from './local.js';
// Types only: the AWS SDK (tens of MB resident) loads when a store is S3 (import the class from ./s3.js).
export type { S3BlobStore, S3BlobStoreOptions } from './s3.js';

export type BlobStoreOptions = { kind: 'local'; dir: string } | ({ kind: 's3' } & S3BlobStoreOptions);

/** The store `opts` describes; the AWS SDK is imported only for an S3 store. */
export async function createBlobStore(opts: BlobStoreOptions): Promise<BlobStore> {
  switch (opts.kind) {
    case 'local':
      return new LocalBlobStore(opts.dir);
    case 's3': {
      const { kind: _kind, ...s3 } = opts;
      const { S3BlobStore } = await import('./s3.js');
      return new S3BlobStore(s3);
    }
  }
}

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const optionalText = z.string().trim().min(1).optional();

const storageEnv = z.discriminatedUnion('DJCAST_STORAGE', [
  z.object({
    DJCAST_STORAGE: z.literal('local'),
    DJCAST_STORAGE_DIR: z.string().trim().min(1, 'DJCAST_STORAGE_DIR is required when DJCAST_STORAGE is local'),
  }),
  z
    .object({
      DJCAST_STORAGE: z.literal('s3'),
      DJCAST_S3_BUCKET: z.string().trim().min(1, 'DJCAST_S3_BUCKET is required when DJCAST_STORAGE is s3'),
      DJCAST_S3_REGION: optionalText,
      DJCAST_S3_ENDPOINT: z.url().optional(),
      DJCAST_S3_FORCE_PATH_STYLE: flag.optional(),
      DJCAST_S3_ACCESS_KEY_ID: optionalText,
      DJCAST_S3_SECRET_ACCESS_KEY: optionalText,
      DJCAST_S3_PREFIX: optionalText,
    })
    .refine((env) => Boolean(env.DJCAST_S3_ACCESS_KEY_ID) === Boolean(env.DJCAST_S3_SECRET_ACCESS_KEY), {
      message:
        'Set both DJCAST_S3_ACCESS_KEY_ID and DJCAST_S3_SECRET_ACCESS_KEY, or neither (to use the default AWS credential chain)',
    }),
]);

/**
 * The store described by DJCAST_STORAGE (local | s3, default local) and its
 * DJCAST_STORAGE_DIR / DJCAST_S3_* variables. Takes the environment as an
 * argument so callers decide where it comes from; empty values count as unset.
 */
export async function blobStoreFromEnv(env: Record<string, string | undefined>): Promise<BlobStore> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = storageEnv.safeParse({ DJCAST_STORAGE: 'local', ...present });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    );
    throw new Error(`Invalid blob storage configuration: ${problems.join('; ')}`);
  }
  const cfg = parsed.data;
  if (cfg.DJCAST_STORAGE === 'local') return createBlobStore({ kind: 'local', dir: cfg.DJCAST_STORAGE_DIR });
  const s3: S3BlobStoreOptions = { bucket: cfg.DJCAST_S3_BUCKET };
  if (cfg.DJCAST_S3_REGION) s3.region = cfg.DJCAST_S3_REGION;
  if (cfg.DJCAST_S3_ENDPOINT) s3.endpoint = cfg.DJCAST_S3_ENDPOINT;
  if (cfg.DJCAST_S3_FORCE_PATH_STYLE !== undefined) s3.forcePathStyle = cfg.DJCAST_S3_FORCE_PATH_STYLE;
  if (cfg.DJCAST_S3_ACCESS_KEY_ID) s3.accessKeyId = cfg.DJCAST_S3_ACCESS_KEY_ID;
  if (cfg.DJCAST_S3_SECRET_ACCESS_KEY) s3.secretAccessKey = cfg.DJCAST_S3_SECRET_ACCESS_KEY;
  if (cfg.DJCAST_S3_PREFIX) s3.prefix = cfg.DJCAST_S3_PREFIX;
  return createBlobStore({ kind: 's3', ...s3 });
}
