import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

/**
 * The only reader of the environment. Every DJCAST_* variable is parsed here
 * into one typed object; secrets may also come from a file named by the
 * variable's *_FILE twin (Kubernetes Secrets, Docker secrets).
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const schema = z
  .object({
    DJCAST_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    DJCAST_HOST: z
      .string()
      .regex(/^[A-Za-z0-9.:%_-]{1,253}$/, 'an IP address or host name')
      .default('0.0.0.0'),
    DJCAST_DATA_DIR: z.string().default('./.djcast'),
    DJCAST_DATABASE_URL: z.string().optional(),
    DJCAST_DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
      .optional(),
    DJCAST_PUBLIC_URL: z.url().optional(),
    DJCAST_METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
    DJCAST_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DJCAST_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    DJCAST_JWT_ISSUER: z.string().optional(),
    DJCAST_ACCESS_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(24 * 60 * 60),
    DJCAST_REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(30 * 24 * 60 * 60),
    DJCAST_LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
    DJCAST_LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().positive().default(50),
    DJCAST_LOGIN_WINDOW_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(15 * 60),
    DJCAST_LOGIN_MAX_FAILURES_PER_EMAIL: z.coerce.number().int().positive().default(50),
    DJCAST_LOGIN_MAX_PER_IP: z.coerce.number().int().positive().default(300),
    DJCAST_REGISTER_MAX_PER_IP: z.coerce.number().int().positive().default(50),
    DJCAST_REGISTER_WINDOW_SECONDS: z.coerce
      .number()
      .int()
      .positive()
      .default(60 * 60),
    DJCAST_PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
    DJCAST_PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(32),
    DJCAST_JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
    DJCAST_ADMIN_EMAIL: z.email().optional(),
    DJCAST_ADMIN_PASSWORD: z.string().optional(),
    DJCAST_ALLOW_PRIVATE_URLS: bool.optional(),
    DJCAST_ENCRYPTION_KEY: z.string().optional(),
    DJCAST_SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
      .optional(),
    DJCAST_MAIL_FROM: z.string().default('djcast <no-reply@djcast.local>'),
    DJCAST_UPLOAD_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .default(100 * 1024 * 1024),
    // 8 kbps packs 28 hours into 100 MB: the byte limit alone does not bound the work an upload causes.
    DJCAST_UPLOAD_MAX_DURATION_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(6 * 3600),
    DJCAST_EXTERNAL_TRACK_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .default(512 * 1024 * 1024),
    DJCAST_CLAMAV_HOST: z.string().optional(),
    DJCAST_CLAMAV_PORT: z.coerce.number().int().min(1).max(65535).default(3310),
    DJCAST_CLAMAV_SOCKET: z.string().optional(),
    /** clamd's StreamMaxLength (25 MiB is clamd's default): larger files fail the scan with size_limit before they are sent. */
    DJCAST_CLAMAV_STREAM_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(25 * 1024 * 1024),
    DJCAST_JOB_WORKER: z.enum(['in-process', 'off']).default('in-process'),
    DJCAST_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    DJCAST_JOB_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** A webhook delivery attempt that has no response headers within this fails (and is retried). */
    DJCAST_WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().positive().max(60).default(10),
    /** How long a failing delivery is retried, and an endpoint may fail, before it is given up (and the endpoint disabled). */
    DJCAST_WEBHOOK_RETRY_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 14)
      .default(72),
    /** How long an active subscription keeps playing past its period end while its renewal is processed. */
    /** With a key, billing runs on Stripe; without, in the explicit local test mode. */
    DJCAST_STRIPE_SECRET_KEY: z.string().optional(),
    /** The signing secret of the Stripe webhook endpoint (POST /v1/webhooks/stripe). */
    DJCAST_STRIPE_WEBHOOK_SECRET: z.string().optional(),
    /** Where the Stripe API is; tests point it at a loopback fake. */
    DJCAST_STRIPE_API_BASE: z.url().optional(),
    /** The platform's cut of each payment to a DJ's connected account: Stripe takes 0–100 with at most two decimals. */
    DJCAST_BILLING_APPLICATION_FEE_PERCENT: z.coerce
      .number()
      .min(0)
      .max(100)
      .refine(
        (v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6,
        'must have at most two decimals (Stripe’s application_fee_percent)',
      )
      .default(10),
    DJCAST_BILLING_GRACE_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 30)
      .default(72),
    DJCAST_PLAYBACK_CACHE_SECONDS: z.coerce.number().int().min(0).max(86400).default(60),
    /** Raw listener sessions, download requests and listener samples are deleted this many days after they were folded. */
    DJCAST_ANALYTICS_RAW_RETENTION_DAYS: z.coerce.number().int().min(2).max(3660).default(30),
    /** How often the fold job turns raw analytics rows into daily aggregates. */
    DJCAST_ANALYTICS_FOLD_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(86400).default(300),
    /** How often finished listener sessions are written (in one batch). */
    DJCAST_ANALYTICS_FLUSH_SECONDS: z.coerce.number().min(0.05).max(600).default(10),
    DJCAST_STORAGE: z.enum(['local', 's3']).default('local'),
    DJCAST_S3_BUCKET: z.string().optional(),
    DJCAST_S3_REGION: z.string().default('us-east-1'),
    DJCAST_S3_ENDPOINT: z.url().optional(),
    DJCAST_S3_FORCE_PATH_STYLE: bool.default(false),
    DJCAST_S3_ACCESS_KEY_ID: z.string().optional(),
    DJCAST_S3_SECRET_ACCESS_KEY: z.string().optional(),
    DJCAST_RELAY_LAUNCHER: z.enum(['process', 'kubernetes']).default('process'),
    DJCAST_K8S_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes namespace name')
      .default('djcast'),
    DJCAST_K8S_RELAY_IMAGE: z.string().optional(),
    DJCAST_K8S_KUBECONFIG: z.string().optional(),
    DJCAST_RELAY_API_URL: z.url().optional(),
    DJCAST_RELAY_AUDIO: z.enum(['aac', 'copy']).default('aac'),
    DJCAST_RELAY_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().positive().default(120),
    DJCAST_RELAY_OFFLINE_AFTER_SECONDS: z.coerce.number().positive().default(300),
    DJCAST_RELAY_WATCHDOG_INTERVAL_SECONDS: z.coerce.number().positive().default(15),
    DJCAST_RELAY_SEGMENT_SECONDS: z.coerce.number().int().min(1).max(30).default(6),
    DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().positive().optional(),
    DJCAST_RELAY_BACKOFF_INITIAL_MS: z.coerce.number().int().positive().optional(),
    DJCAST_RELAY_BACKOFF_MAX_MS: z.coerce.number().int().positive().optional(),
    DJCAST_SOURCE_PROBE_TIMEOUT_SECONDS: z.coerce.number().positive().default(10),
    DJCAST_TRUSTED_PROXIES: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .refine((list) => list.every(isCidr), 'a comma-separated list of IP addresses or CIDR ranges (10.0.0.0/8, fd00::/8)'),
    DJCAST_HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(20),
    DJCAST_HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce
      .number()
      .positive()
      .max(24 * 3600)
      .default(120),
    DJCAST_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(5),
    DJCAST_HTTP_MAX_REQUESTS_PER_SOCKET: z.coerce.number().int().min(0).default(1000),
    DJCAST_HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(1024),
    DJCAST_LISTENER_IDLE_SECONDS: z.coerce.number().positive().max(3600).default(30),
    // stream.mp3 like a radio stream: 10 s of audio at once, then at most this many times real time. 0 = off.
    DJCAST_STREAM_PACE: z.coerce.number().min(0).max(100).default(0),
    /** Custom domains: the hostname their CNAME points at (the edge/CDN); the public URL's host by default. */
    DJCAST_DOMAIN_CNAME_TARGET: z
      .string()
      .regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name')
      .optional(),
    /** The platform's own domains (comma-separated): they and their subdomains cannot be claimed. */
    DJCAST_PLATFORM_DOMAINS: z.string().optional(),
    /** DNS servers the domain verifier asks (comma-separated IP[:port]); the system's when empty. */
    DJCAST_DNS_RESOLVERS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    DJCAST_DNS_PROVIDER: z.enum(['none', 'powerdns', 'cloudflare']).default('none'),
    DJCAST_POWERDNS_API_URL: z.url().optional(),
    DJCAST_POWERDNS_API_KEY: z.string().optional(),
    DJCAST_POWERDNS_SERVER_ID: z.string().default('localhost'),
    DJCAST_CLOUDFLARE_API_TOKEN: z.string().optional(),
    /** Only to point the Cloudflare client elsewhere (a test fake); the real API by default. */
    DJCAST_CLOUDFLARE_API_URL: z.url().optional(),
    /** A CDN in front of the public URLs, purged when a feed changes: none (log the URLs) or cloudflare. */
    DJCAST_CDN: z.enum(['none', 'cloudflare']).default('none'),
    /** The Cloudflare zone that serves DJCAST_PUBLIC_URL (DJCAST_CDN=cloudflare). */
    DJCAST_CLOUDFLARE_ZONE_ID: z
      .string()
      .regex(/^[0-9a-f]{32}$/, 'must be a Cloudflare zone id (32 hex characters)')
      .optional(),
    DJCAST_DOMAIN_POLL_SECONDS: z.coerce.number().positive().max(86400).default(60),
    DJCAST_DOMAIN_UNVERIFIED_EMAIL_HOURS: z.coerce.number().positive().default(24),
    DJCAST_DOMAIN_GIVE_UP_HOURS: z.coerce
      .number()
      .positive()
      .default(7 * 24),
    /** ACME directory: Let's Encrypt production or staging, or Pebble; certificates are off when unset. */
    DJCAST_ACME_DIRECTORY_URL: z.url().optional(),
    DJCAST_ACME_EMAIL: z.email().optional(),
    /** A CA certificate (PEM file) to trust for the ACME directory's own TLS (Pebble). */
    DJCAST_ACME_CA_FILE: z.string().optional(),
    DJCAST_CERT_RENEW_DAYS: z.coerce.number().positive().max(89).default(30),
    /** Port of the HTTPS listener that serves custom domains by SNI; off when unset. */
    DJCAST_HTTPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    // Handed to process relay workers (their only inherited variables): FFmpeg lookup and a home dir.
    PATH: z.string().optional(),
    HOME: z.string().optional(),
  })
  .superRefine((env, ctx) => {
    if (env.DJCAST_STORAGE === 's3' && !env.DJCAST_S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['DJCAST_S3_BUCKET'], message: 'required when DJCAST_STORAGE is s3' });
    }
    if ((env.DJCAST_ADMIN_EMAIL === undefined) !== (env.DJCAST_ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_ADMIN_PASSWORD'],
        message: 'DJCAST_ADMIN_EMAIL and DJCAST_ADMIN_PASSWORD go together',
      });
    }
    if (env.DJCAST_RELAY_LAUNCHER === 'kubernetes' && !env.DJCAST_K8S_RELAY_IMAGE) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_K8S_RELAY_IMAGE'],
        message: 'required when DJCAST_RELAY_LAUNCHER is kubernetes',
      });
    }
    if (env.DJCAST_DATABASE_URL && !/^(postgres|postgresql|sqlite):/.test(env.DJCAST_DATABASE_URL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_DATABASE_URL'],
        message: 'must start with postgres:// or sqlite:',
      });
    }
    if (env.DJCAST_DNS_PROVIDER === 'powerdns' && (!env.DJCAST_POWERDNS_API_URL || !env.DJCAST_POWERDNS_API_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_POWERDNS_API_URL'],
        message: 'DJCAST_POWERDNS_API_URL and DJCAST_POWERDNS_API_KEY are required when DJCAST_DNS_PROVIDER is powerdns',
      });
    }
    if (env.DJCAST_DNS_PROVIDER === 'cloudflare' && !env.DJCAST_CLOUDFLARE_API_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_CLOUDFLARE_API_TOKEN'],
        message: 'required when DJCAST_DNS_PROVIDER is cloudflare',
      });
    }
    if (env.DJCAST_CDN === 'cloudflare' && (!env.DJCAST_CLOUDFLARE_API_TOKEN || !env.DJCAST_CLOUDFLARE_ZONE_ID)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_CLOUDFLARE_ZONE_ID'],
        message: 'DJCAST_CLOUDFLARE_API_TOKEN and DJCAST_CLOUDFLARE_ZONE_ID are required when DJCAST_CDN is cloudflare',
      });
    }
    if (env.DJCAST_CLAMAV_HOST && env.DJCAST_CLAMAV_SOCKET) {
      ctx.addIssue({
        code: 'custom',
        path: ['DJCAST_CLAMAV_SOCKET'],
        message: 'set DJCAST_CLAMAV_HOST or DJCAST_CLAMAV_SOCKET, not both',
      });
    }
  });

export type Config = ReturnType<typeof toConfig>;

/** An IP address, or one with a prefix length (10.0.0.0/8, fd00::/8). */
function isCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

const SECRET_VARIABLES = [
  'DJCAST_JWT_SECRET',
  'DJCAST_DATABASE_URL',
  'DJCAST_ADMIN_PASSWORD',
  'DJCAST_ENCRYPTION_KEY',
  'DJCAST_S3_SECRET_ACCESS_KEY',
  'DJCAST_SMTP_URL',
  'DJCAST_METRICS_TOKEN',
  'DJCAST_POWERDNS_API_KEY',
  'DJCAST_CLOUDFLARE_API_TOKEN',
  'DJCAST_STRIPE_SECRET_KEY',
  'DJCAST_STRIPE_WEBHOOK_SECRET',
] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file && resolved[name] === undefined) resolved[name] = readFileSync(file, 'utf8').trim();
  }
  for (const key of Object.keys(resolved)) if (resolved[key] === '') resolved[key] = undefined;
  const parsed = schema.safeParse(resolved);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return toConfig(parsed.data);
}

function toConfig(env: z.infer<typeof schema>) {
  const dataDir = path.resolve(env.DJCAST_DATA_DIR);
  const publicUrl = (env.DJCAST_PUBLIC_URL ?? `http://localhost:${env.DJCAST_PORT}`).replace(/\/+$/, '');
  return {
    port: env.DJCAST_PORT,
    host: env.DJCAST_HOST,
    dataDir,
    publicUrl,
    logLevel: env.DJCAST_LOG_LEVEL,
    metrics: {
      /** When set, /metrics requires `Authorization: Bearer <token>`. */
      token: env.DJCAST_METRICS_TOKEN,
    },
    database: {
      url: env.DJCAST_DATABASE_URL ?? `sqlite:${path.join(dataDir, 'djcast.sqlite')}`,
      schema: env.DJCAST_DATABASE_SCHEMA,
    },
    auth: {
      /** When absent, the embedded default generates one and keeps it in the data dir. */
      jwtSecret: env.DJCAST_JWT_SECRET,
      issuer: env.DJCAST_JWT_ISSUER ?? publicUrl,
      audience: 'djcast-api',
      accessTokenTtlSeconds: env.DJCAST_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.DJCAST_REFRESH_TOKEN_TTL_SECONDS,
      /** How far in the future a token's `iat` may be (clock skew between replicas). */
      maxClockSkewSeconds: env.DJCAST_JWT_CLOCK_SKEW_SECONDS,
      limits: {
        loginWindowSeconds: env.DJCAST_LOGIN_WINDOW_SECONDS,
        /** DJCAST_LOGIN_MAX_FAILURES counts failures of one email from one client address. */
        maxFailuresPerEmailAndAddress: env.DJCAST_LOGIN_MAX_FAILURES,
        maxFailuresPerEmail: Math.max(env.DJCAST_LOGIN_MAX_FAILURES_PER_EMAIL, env.DJCAST_LOGIN_MAX_FAILURES),
        maxFailuresPerAddress: env.DJCAST_LOGIN_MAX_FAILURES_PER_IP,
        maxLoginsPerAddress: env.DJCAST_LOGIN_MAX_PER_IP,
        registerWindowSeconds: env.DJCAST_REGISTER_WINDOW_SECONDS,
        maxRegistrationsPerAddress: env.DJCAST_REGISTER_MAX_PER_IP,
      },
      passwordWork: {
        /** Concurrent argon2 hashes and verifications; one per core unless set. */
        concurrency: env.DJCAST_PASSWORD_HASH_CONCURRENCY ?? availableParallelism(),
        /** Logins and registrations that may wait for a slot; beyond it, 503 with Retry-After. */
        maxQueue: env.DJCAST_PASSWORD_HASH_QUEUE,
        retryAfterSeconds: 1,
      },
      bootstrapAdmin:
        env.DJCAST_ADMIN_EMAIL && env.DJCAST_ADMIN_PASSWORD
          ? { email: env.DJCAST_ADMIN_EMAIL, password: env.DJCAST_ADMIN_PASSWORD }
          : undefined,
    },
    network: {
      /** Server-side fetches of user URLs may reach private addresses (local defaults, tests). */
      allowPrivateUrls: env.DJCAST_ALLOW_PRIVATE_URLS ?? false,
    },
    http: {
      /** Proxies whose X-Forwarded-For is believed (load balancers, a CDN); empty: the socket's address is the client's. */
      trustedProxies: env.DJCAST_TRUSTED_PROXIES,
      /** A client must send its request headers within this. */
      headersTimeoutMs: Math.round(env.DJCAST_HTTP_HEADERS_TIMEOUT_SECONDS * 1000),
      /** ...and its whole request, body included (raise it for uploads over slow links). */
      requestTimeoutMs: Math.round(env.DJCAST_HTTP_REQUEST_TIMEOUT_SECONDS * 1000),
      keepAliveTimeoutMs: Math.round(env.DJCAST_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000),
      /** Requests one keep-alive connection may carry (0: unlimited). */
      maxRequestsPerSocket: env.DJCAST_HTTP_MAX_REQUESTS_PER_SOCKET,
      /** Open connections per process; more are refused until one closes. */
      maxConnections: env.DJCAST_HTTP_MAX_CONNECTIONS,
      /** A stream.mp3 listener whose connection takes no bytes for this long is disconnected. */
      listenerIdleMs: Math.round(env.DJCAST_LISTENER_IDLE_SECONDS * 1000),
    },
    encryptionKey: env.DJCAST_ENCRYPTION_KEY,
    uploads: {
      /** Enforced while the body streams in, not after. */
      maxBytes: env.DJCAST_UPLOAD_MAX_BYTES,
      /** Longest audio an upload may hold; longer files are refused with 422 before any job runs. */
      maxDurationSeconds: env.DJCAST_UPLOAD_MAX_DURATION_SECONDS,
    },
    virusScan: env.DJCAST_CLAMAV_SOCKET
      ? { kind: 'clamav' as const, socket: env.DJCAST_CLAMAV_SOCKET, streamMaxBytes: env.DJCAST_CLAMAV_STREAM_MAX_BYTES }
      : env.DJCAST_CLAMAV_HOST
        ? {
            kind: 'clamav' as const,
            host: env.DJCAST_CLAMAV_HOST,
            port: env.DJCAST_CLAMAV_PORT,
            streamMaxBytes: env.DJCAST_CLAMAV_STREAM_MAX_BYTES,
          }
        : { kind: 'off' as const },
    analytics: {
      rawRetentionDays: env.DJCAST_ANALYTICS_RAW_RETENTION_DAYS,
      foldIntervalMs: env.DJCAST_ANALYTICS_FOLD_INTERVAL_SECONDS * 1000,
      flushIntervalMs: Math.round(env.DJCAST_ANALYTICS_FLUSH_SECONDS * 1000),
    },
    jobs: {
      /** `serve` runs a worker loop unless this is off (then run `djcast-server worker` processes). */
      inProcessWorker: env.DJCAST_JOB_WORKER === 'in-process',
      concurrency: env.DJCAST_JOB_CONCURRENCY,
      /** A job whose worker stops renewing its lease for this long is handed to another worker. */
      leaseMs: env.DJCAST_JOB_LEASE_SECONDS * 1000,
    },
    webhooks: {
      timeoutMs: Math.round(env.DJCAST_WEBHOOK_TIMEOUT_SECONDS * 1000),
      retryWindowMs: Math.round(env.DJCAST_WEBHOOK_RETRY_HOURS * 3600 * 1000),
    },
    playlists: {
      externalTrackMaxBytes: env.DJCAST_EXTERNAL_TRACK_MAX_BYTES,
      /** max-age of public playback responses (stream.mp3, stream.m3u8); a CDN in front absorbs listeners. */
      cacheSeconds: env.DJCAST_PLAYBACK_CACHE_SECONDS,
      /**
       * Pace of a whole (not ranged) stream.mp3 response after its head start, in multiples of real
       * time; 0 sends as fast as the listener reads. Pacing spares the origin when thousands of
       * listeners connect to it directly; behind a caching CDN leave it off (a cache fill would be paced too).
       */
      streamPaceFactor: env.DJCAST_STREAM_PACE,
    },
    billing: {
      /** `local`: the explicit test mode (no money moves, provider "local" on every object). */
      kind: env.DJCAST_STRIPE_SECRET_KEY ? ('stripe' as const) : ('local' as const),
      stripe: env.DJCAST_STRIPE_SECRET_KEY
        ? {
            secretKey: env.DJCAST_STRIPE_SECRET_KEY,
            webhookSecret: env.DJCAST_STRIPE_WEBHOOK_SECRET,
            apiBase: env.DJCAST_STRIPE_API_BASE,
            applicationFeePercent: env.DJCAST_BILLING_APPLICATION_FEE_PERCENT,
          }
        : undefined,
      graceMs: Math.round(env.DJCAST_BILLING_GRACE_HOURS * 3600 * 1000),
    },
    mail: env.DJCAST_SMTP_URL
      ? { kind: 'smtp' as const, url: env.DJCAST_SMTP_URL, from: env.DJCAST_MAIL_FROM }
      : { kind: 'outbox' as const },
    storage:
      env.DJCAST_STORAGE === 's3'
        ? {
            kind: 's3' as const,
            bucket: env.DJCAST_S3_BUCKET!,
            region: env.DJCAST_S3_REGION,
            endpoint: env.DJCAST_S3_ENDPOINT,
            forcePathStyle: env.DJCAST_S3_FORCE_PATH_STYLE,
            accessKeyId: env.DJCAST_S3_ACCESS_KEY_ID,
            secretAccessKey: env.DJCAST_S3_SECRET_ACCESS_KEY,
          }
        : { kind: 'local' as const, dir: path.join(dataDir, 'media') },
    cdn:
      env.DJCAST_CDN === 'cloudflare'
        ? {
            kind: 'cloudflare' as const,
            apiToken: env.DJCAST_CLOUDFLARE_API_TOKEN!,
            zoneId: env.DJCAST_CLOUDFLARE_ZONE_ID!,
            baseUrl: env.DJCAST_CLOUDFLARE_API_URL,
          }
        : { kind: 'none' as const },
    domains: {
      cnameTarget: env.DJCAST_DOMAIN_CNAME_TARGET ?? new URL(publicUrl).hostname,
      platformDomains: (env.DJCAST_PLATFORM_DOMAINS ?? new URL(publicUrl).hostname)
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean),
      resolvers: env.DJCAST_DNS_RESOLVERS,
      provider:
        env.DJCAST_DNS_PROVIDER === 'powerdns'
          ? {
              kind: 'powerdns' as const,
              apiUrl: env.DJCAST_POWERDNS_API_URL!,
              apiKey: env.DJCAST_POWERDNS_API_KEY!,
              serverId: env.DJCAST_POWERDNS_SERVER_ID,
            }
          : env.DJCAST_DNS_PROVIDER === 'cloudflare'
            ? { kind: 'cloudflare' as const, apiToken: env.DJCAST_CLOUDFLARE_API_TOKEN!, baseUrl: env.DJCAST_CLOUDFLARE_API_URL }
            : { kind: 'none' as const },
      pollIntervalMs: Math.round(env.DJCAST_DOMAIN_POLL_SECONDS * 1000),
      unverifiedNoticeAfterMs: Math.round(env.DJCAST_DOMAIN_UNVERIFIED_EMAIL_HOURS * 3_600_000),
      giveUpAfterMs: Math.round(env.DJCAST_DOMAIN_GIVE_UP_HOURS * 3_600_000),
      renewBeforeMs: Math.round(env.DJCAST_CERT_RENEW_DAYS * 86_400_000),
      acme: env.DJCAST_ACME_DIRECTORY_URL
        ? {
            directoryUrl: env.DJCAST_ACME_DIRECTORY_URL,
            email: env.DJCAST_ACME_EMAIL,
            caFile: env.DJCAST_ACME_CA_FILE,
          }
        : null,
      httpsPort: env.DJCAST_HTTPS_PORT,
    },
    relay: {
      launcher:
        env.DJCAST_RELAY_LAUNCHER === 'kubernetes'
          ? {
              kind: 'kubernetes' as const,
              namespace: env.DJCAST_K8S_NAMESPACE,
              image: env.DJCAST_K8S_RELAY_IMAGE!,
              /** In-cluster service account credentials when absent. */
              kubeconfig: env.DJCAST_K8S_KUBECONFIG,
            }
          : { kind: 'process' as const },
      /** Where workers send heartbeats; the public URL unless the cluster reaches the API another way. */
      apiUrl: (env.DJCAST_RELAY_API_URL ?? publicUrl).replace(/\/+$/, ''),
      audio: env.DJCAST_RELAY_AUDIO,
      /** No heartbeat for this long: the watchdog restarts the worker and mails the DJ. */
      heartbeatTimeoutMs: env.DJCAST_RELAY_HEARTBEAT_TIMEOUT_SECONDS * 1000,
      /** The worker reports `offline` after its source has been gone this long. */
      offlineAfterMs: env.DJCAST_RELAY_OFFLINE_AFTER_SECONDS * 1000,
      watchdogIntervalMs: env.DJCAST_RELAY_WATCHDOG_INTERVAL_SECONDS * 1000,
      segmentSeconds: env.DJCAST_RELAY_SEGMENT_SECONDS,
      heartbeatIntervalMs:
        env.DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS === undefined
          ? undefined
          : Math.round(env.DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS * 1000),
      backoffInitialMs: env.DJCAST_RELAY_BACKOFF_INITIAL_MS,
      backoffMaxMs: env.DJCAST_RELAY_BACKOFF_MAX_MS,
      probeTimeoutMs: env.DJCAST_SOURCE_PROBE_TIMEOUT_SECONDS * 1000,
      workerEnv: { PATH: env.PATH, HOME: env.HOME },
    },
  };
}
