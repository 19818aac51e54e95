import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { BlobStoreOptions } from './blob/index.js';
import type { SourceKind } from './stats.js';

/**
 * The only reader of the environment. The worker is configured entirely by
 * DJCAST_* variables (set by the server's relay launcher); secrets may also
 * come from a file named by the variable's *_FILE twin (Kubernetes Secrets).
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const ms = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

const schema = z.object({
  DJCAST_RELAY_ID: z.string().trim().min(1),
  DJCAST_STREAM_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (it becomes a storage key)'),
  DJCAST_SOURCE_URL: httpUrl,
  DJCAST_SOURCE_KIND: z.enum(['icecast', 'shoutcast1', 'shoutcast2']),
  DJCAST_STATS_URL: httpUrl,
  DJCAST_SOURCE_USERNAME: z.string().optional(),
  DJCAST_SOURCE_PASSWORD: z.string().optional(),
  DJCAST_ALLOW_PRIVATE_URLS: bool.default(false),
  DJCAST_SOURCE_ADMIN_USERNAME: z.string().default('admin'),
  DJCAST_SOURCE_ADMIN_PASSWORD: z.string().optional(),
  DJCAST_API_URL: httpUrl,
  DJCAST_RELAY_TOKEN: z.string().min(1),
  DJCAST_RELAY_AUDIO: z.enum(['aac', 'copy']).default('aac'),
  DJCAST_RELAY_PAYWALL: z.enum(['on', 'off']).default('off'),
  DJCAST_RELAY_VISIBILITY: z.enum(['public', 'private']).default('public'),
  DJCAST_RELAY_HOST: z.string().default('0.0.0.0'),
  DJCAST_RELAY_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  DJCAST_RELAY_HEARTBEAT_MS: ms(30_000, 100),
  DJCAST_RELAY_OFFLINE_AFTER_MS: ms(300_000, 0),
  DJCAST_RELAY_BACKOFF_INITIAL_MS: ms(1000, 0),
  DJCAST_RELAY_BACKOFF_MAX_MS: ms(30_000, 0),
  DJCAST_RELAY_SEGMENT_SECONDS: z.coerce.number().int().min(1).max(60).default(6),
  DJCAST_RELAY_WINDOW: z.coerce.number().int().min(3, 'at least 3 segments (RFC 8216 live playlists)').max(100).default(3),
  DJCAST_FFMPEG_PATH: z.string().default('ffmpeg'),
  DJCAST_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DJCAST_STORAGE: z.enum(['local', 's3']).default('local'),
  DJCAST_STORAGE_DIR: z.string().optional(),
  DJCAST_S3_BUCKET: z.string().optional(),
  DJCAST_S3_REGION: z.string().optional(),
  DJCAST_S3_ENDPOINT: httpUrl.optional(),
  DJCAST_S3_FORCE_PATH_STYLE: bool.optional(),
  DJCAST_S3_ACCESS_KEY_ID: z.string().optional(),
  DJCAST_S3_SECRET_ACCESS_KEY: z.string().optional(),
  DJCAST_S3_PREFIX: z.string().optional(),
});

/**
 * Rules across variables. Checked on the raw strings so they are reported
 * together with per-variable problems (a zod refinement would only run
 * once every field is valid).
 */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const storage = env.DJCAST_STORAGE ?? 'local';
  if (storage === 'local' && !env.DJCAST_STORAGE_DIR) problems.push('DJCAST_STORAGE_DIR: required when DJCAST_STORAGE is local');
  if (storage === 's3' && !env.DJCAST_S3_BUCKET) problems.push('DJCAST_S3_BUCKET: required when DJCAST_STORAGE is s3');
  if (Boolean(env.DJCAST_S3_ACCESS_KEY_ID) !== Boolean(env.DJCAST_S3_SECRET_ACCESS_KEY)) {
    problems.push('DJCAST_S3_SECRET_ACCESS_KEY: set both DJCAST_S3_ACCESS_KEY_ID and DJCAST_S3_SECRET_ACCESS_KEY, or neither');
  }
  const initial = Number(env.DJCAST_RELAY_BACKOFF_INITIAL_MS ?? 1000);
  const max = Number(env.DJCAST_RELAY_BACKOFF_MAX_MS ?? 30_000);
  if (Number.isFinite(initial) && Number.isFinite(max) && initial > max) {
    problems.push('DJCAST_RELAY_BACKOFF_INITIAL_MS: must not exceed DJCAST_RELAY_BACKOFF_MAX_MS');
  }
  const source = env.DJCAST_SOURCE_URL && URL.canParse(env.DJCAST_SOURCE_URL) ? new URL(env.DJCAST_SOURCE_URL) : null;
  if (source && (source.username || source.password)) {
    problems.push('DJCAST_SOURCE_URL: must not contain credentials; use DJCAST_SOURCE_USERNAME and DJCAST_SOURCE_PASSWORD');
  }
  return problems;
}

/** Variables that may instead be read from the file named by VAR_FILE. */
const SECRET_VARIABLES = [
  'DJCAST_RELAY_TOKEN',
  'DJCAST_SOURCE_PASSWORD',
  'DJCAST_SOURCE_ADMIN_PASSWORD',
  'DJCAST_S3_SECRET_ACCESS_KEY',
] as const;

export interface RelayConfig {
  relayId: string;
  streamId: string;
  source: {
    url: string;
    kind: SourceKind;
    statsUrl: string;
    username?: string;
    password?: string;
    /**
     * Icecast admin credentials, optional: with them the relay reads the
     * mount's client list and counts every djcast relay connection (its own
     * and other streams' relays on the same mount) as a relay, not a listener.
     */
    admin?: { username: string; password: string };
  };
  /** The relay's reads of the source may reach loopback and private addresses (DJCAST_ALLOW_PRIVATE_URLS; development and tests). */
  allowPrivateUrls?: boolean;
  api: { url: string; token: string };
  audio: 'aac' | 'copy';
  paywall: { enabled: boolean; visibility: 'public' | 'private' };
  http: { host: string; port: number };
  heartbeatMs: number;
  offlineAfterMs: number;
  backoff: { initialMs: number; maxMs: number };
  segmentSeconds: number;
  /** Segments in the live playlist (more only if RFC 8216's 3 x target rule needs them). */
  window: number;
  ffmpegPath: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  storage: BlobStoreOptions;
}

export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid relay configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Parses the worker's environment; throws RelayConfigError listing every problem. */
export function loadRelayConfig(env: Record<string, string | undefined>): RelayConfig {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const key of Object.keys(resolved)) if (resolved[key] === '') resolved[key] = undefined;
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = resolved[`${name}_FILE`];
    if (file && resolved[name] === undefined) {
      try {
        resolved[name] = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
  }
  const parsed = schema.safeParse(resolved);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  problems.push(...crossFieldProblems(resolved));
  if (problems.length > 0 || !parsed.success) throw new RelayConfigError(problems);
  const e = parsed.data;
  return {
    relayId: e.DJCAST_RELAY_ID,
    streamId: e.DJCAST_STREAM_ID,
    source: {
      url: e.DJCAST_SOURCE_URL,
      kind: e.DJCAST_SOURCE_KIND,
      statsUrl: e.DJCAST_STATS_URL,
      ...(e.DJCAST_SOURCE_USERNAME !== undefined ? { username: e.DJCAST_SOURCE_USERNAME } : {}),
      ...(e.DJCAST_SOURCE_PASSWORD !== undefined ? { password: e.DJCAST_SOURCE_PASSWORD } : {}),
      ...(e.DJCAST_SOURCE_ADMIN_PASSWORD !== undefined
        ? { admin: { username: e.DJCAST_SOURCE_ADMIN_USERNAME, password: e.DJCAST_SOURCE_ADMIN_PASSWORD } }
        : {}),
    },
    allowPrivateUrls: e.DJCAST_ALLOW_PRIVATE_URLS,
    api: { url: e.DJCAST_API_URL.replace(/\/+$/, ''), token: e.DJCAST_RELAY_TOKEN },
    audio: e.DJCAST_RELAY_AUDIO,
    paywall: { enabled: e.DJCAST_RELAY_PAYWALL === 'on', visibility: e.DJCAST_RELAY_VISIBILITY },
    http: { host: e.DJCAST_RELAY_HOST, port: e.DJCAST_RELAY_PORT },
    heartbeatMs: e.DJCAST_RELAY_HEARTBEAT_MS,
    offlineAfterMs: e.DJCAST_RELAY_OFFLINE_AFTER_MS,
    backoff: { initialMs: e.DJCAST_RELAY_BACKOFF_INITIAL_MS, maxMs: e.DJCAST_RELAY_BACKOFF_MAX_MS },
    segmentSeconds: e.DJCAST_RELAY_SEGMENT_SECONDS,
    window: e.DJCAST_RELAY_WINDOW,
    ffmpegPath: e.DJCAST_FFMPEG_PATH,
    logLevel: e.DJCAST_LOG_LEVEL,
    storage:
      e.DJCAST_STORAGE === 'local'
        ? { kind: 'local', dir: e.DJCAST_STORAGE_DIR! }
        : {
            kind: 's3',
            bucket: e.DJCAST_S3_BUCKET!,
            ...(e.DJCAST_S3_REGION ? { region: e.DJCAST_S3_REGION } : {}),
            ...(e.DJCAST_S3_ENDPOINT ? { endpoint: e.DJCAST_S3_ENDPOINT } : {}),
            ...(e.DJCAST_S3_FORCE_PATH_STYLE !== undefined ? { forcePathStyle: e.DJCAST_S3_FORCE_PATH_STYLE } : {}),
            ...(e.DJCAST_S3_ACCESS_KEY_ID ? { accessKeyId: e.DJCAST_S3_ACCESS_KEY_ID } : {}),
            ...(e.DJCAST_S3_SECRET_ACCESS_KEY ? { secretAccessKey: e.DJCAST_S3_SECRET_ACCESS_KEY } : {}),
            ...(e.DJCAST_S3_PREFIX ? { prefix: e.DJCAST_S3_PREFIX } : {}),
          },
  };
}

/** The config with secrets masked, safe to log. */
export function describeRelayConfig(config: RelayConfig): Record<string, unknown> {
  return {
    relay_id: config.relayId,
    stream_id: config.streamId,
    source_url: config.source.url,
    source_kind: config.source.kind,
    stats_url: config.source.statsUrl,
    source_auth: config.source.username !== undefined || config.source.password !== undefined,
    allow_private_urls: config.allowPrivateUrls ?? false,
    source_admin: config.source.admin !== undefined,
    api_url: config.api.url,
    audio: config.audio,
    paywall: config.paywall.enabled,
    visibility: config.paywall.visibility,
    port: config.http.port,
    heartbeat_ms: config.heartbeatMs,
    offline_after_ms: config.offlineAfterMs,
    backoff_initial_ms: config.backoff.initialMs,
    backoff_max_ms: config.backoff.maxMs,
    segment_seconds: config.segmentSeconds,
    window: config.window,
    storage: config.storage.kind,
  };
}
