import { createBlobStore, type BlobStore } from '@djcast/relay/blob';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import { OutboxMailer, SmtpMailer, type Mailer } from './adapters/mailer/index.js';
import { createRelayLauncher } from './adapters/relay-launcher/index.js';
import type { RelayLauncher, RelayLogEntry, RelayLogger } from './adapters/relay-launcher/types.js';
import { createDb, migrate, type Db } from './db/create-db.js';
import { authModule } from './features/auth/module.js';
import { opsModule } from './features/ops/module.js';
import { pagesModule } from './features/pages/module.js';
import { relaysModule } from './features/relays/module.js';
import { RelaysService } from './features/relays/service.js';
import { streamsModule } from './features/streams/module.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { PlaybackAuthorizer } from './http/playback.js';
import { JobQueue } from './jobs/queue.js';
import { JobWorker } from './jobs/worker.js';
import { ClamdScanner } from './adapters/scanner/clamd.js';
import { OffScanner } from './adapters/scanner/off.js';
import type { Scanner } from './adapters/scanner/types.js';
import { FfmpegTranscoder } from './adapters/transcoder/ffmpeg.js';
import { checkExternalAudioUrl } from './features/playlists/external-url.js';
import { playlistsModule } from './features/playlists/module.js';
import { uploadsModule } from './features/uploads/module.js';
import { webhooksModule } from './features/webhooks/module.js';
import { podcastsModule } from './features/podcasts/module.js';
import { adsModule } from './features/ads/module.js';
import { EnclosureSigner } from './features/podcasts/enclosure-signing.js';
import { LogCdnPurger } from './adapters/cdn/log.js';
import type { CdnPurger } from './adapters/cdn/types.js';
import { installModules, type FeatureModule } from './modules.js';
import { FieldCipher, deriveKey, ensurePrivateDir, loadOrCreateSecret } from './secrets.js';

export interface ContainerOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  clock?: () => Date;
  defaultMetrics?: boolean;
  /** Replaces the relay launcher config would pick (tests record calls instead of spawning workers). */
  relayLauncher?: RelayLauncher;
  /** Replaces the CDN purger (tests record what it is sent). */
  cdnPurger?: CdnPurger;
}

/**
 * Picks adapter implementations from config and builds the services. The
 * only place that constructs clients, pools and adapters.
 */
export async function createContainer(config: Config, options: ContainerOptions = {}) {
  const logger: Logger = createLogger(config.logLevel, options.logDestination);
  ensurePrivateDir(config.dataDir);
  const db: Db = createDb({ url: config.database.url, schema: config.database.schema });
  await migrate(db, config.database.schema);

  const clock = options.clock ?? (() => new Date());
  const jwtSecret = loadOrCreateSecret(config.auth.jwtSecret, config.dataDir, 'jwt-secret');
  const cipher = new FieldCipher(loadOrCreateSecret(config.encryptionKey, config.dataDir, 'encryption-key'));
  const metrics: Metrics = createMetrics({ poolUsage: () => db.poolUsage(), defaultMetrics: options.defaultMetrics });

  const authFeature = authModule({
    db: db.kysely,
    settings: {
      jwt: {
        secret: jwtSecret,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        ttlSeconds: config.auth.accessTokenTtlSeconds,
        maxClockSkewSeconds: config.auth.maxClockSkewSeconds,
      },
      refreshTokenTtlSeconds: config.auth.refreshTokenTtlSeconds,
      limits: config.auth.limits,
      passwordWork: config.auth.passwordWork,
    },
    clock,
  });
  const auth = authFeature.service;
  if (config.auth.bootstrapAdmin) {
    await auth.ensureAdmin(config.auth.bootstrapAdmin.email, config.auth.bootstrapAdmin.password);
  }
  const mailer: Mailer =
    config.mail.kind === 'smtp' ? new SmtpMailer(config.mail.url, config.mail.from, logger) : new OutboxMailer(db.kysely, logger);
  const jobs = new JobQueue(db, clock);
  const playback = new PlaybackAuthorizer(deriveKey(jwtSecret, 'playback-tokens'), auth, undefined, clock);
  const blobs: BlobStore = createBlobStore(config.storage);
  const relayLauncher: RelayLauncher = options.relayLauncher ?? launcherFor(config.relay, relayLogger(logger));
  const relays = new RelaysService(
    db.kysely,
    relayLauncher,
    blobs,
    mailer,
    cipher,
    logger,
    {
      apiUrl: config.relay.apiUrl,
      audio: config.relay.audio,
      heartbeatTimeoutMs: config.relay.heartbeatTimeoutMs,
      offlineAfterMs: config.relay.offlineAfterMs,
      segmentSeconds: config.relay.segmentSeconds,
      heartbeatIntervalMs: config.relay.heartbeatIntervalMs,
      backoffInitialMs: config.relay.backoffInitialMs,
      backoffMaxMs: config.relay.backoffMaxMs,
      storageEnv: workerStorageEnv(config.storage),
      allowPrivateUrls: config.network.allowPrivateUrls,
    },
    clock,
  );
  const relaysFeature = relaysModule({ relays, logger, watchdogIntervalMs: config.relay.watchdogIntervalMs });
  const streamsFeature = streamsModule({
    db: db.kysely,
    cipher,
    publicUrl: config.publicUrl,
    relays,
    probe: { allowPrivateUrls: config.network.allowPrivateUrls, timeoutMs: config.relay.probeTimeoutMs },
    playback,
    store: blobs,
    clock,
  });

  // Uploads and playlists. Virus scans, transcodes and external tracks run as
  // durable jobs; `serve` starts this worker, `djcast-server worker` runs only it.
  const scanner: Scanner =
    config.virusScan.kind === 'clamav'
      ? new ClamdScanner(
          config.virusScan.socket
            ? { socketPath: config.virusScan.socket }
            : { host: config.virusScan.host!, port: config.virusScan.port! },
          { streamMaxBytes: config.virusScan.streamMaxBytes },
        )
      : new OffScanner();
  const transcoder = new FfmpegTranscoder();
  const worker = new JobWorker(jobs, logger, { concurrency: config.jobs.concurrency, leaseMs: config.jobs.leaseMs });
  const workDir = path.join(config.dataDir, 'work');
  const uploads = uploadsModule({
    db: db.kysely,
    store: blobs,
    transcoder,
    scanner,
    logger,
    publicUrl: config.publicUrl,
    jobs,
    maxDurationSeconds: config.uploads.maxDurationSeconds,
    maxBytes: config.uploads.maxBytes,
    playback,
    workDir,
    clock,
  });
  const playlists = playlistsModule({
    db: db.kysely,
    store: blobs,
    uploads: uploads.service,
    transcoder,
    logger,
    publicUrl: config.publicUrl,
    jobs,
    checkUrl: checkExternalAudioUrl,
    allowPrivateUrls: config.network.allowPrivateUrls,
    externalMaxBytes: config.playlists.externalTrackMaxBytes,
    cacheSeconds: config.playlists.cacheSeconds,
    streamPaceFactor: config.playlists.streamPaceFactor,
    listenerIdleMs: config.http.listenerIdleMs,
    playback,
    workDir,
    clock,
  });

  // Webhooks: delivers the events every feature emits (src/events/) to its owners' endpoints.
  const webhooks = webhooksModule({
    db: db.kysely,
    cipher,
    mailer,
    jobs,
    logger,
    allowPrivateUrls: config.network.allowPrivateUrls,
    timeoutMs: config.webhooks.timeoutMs,
    retryWindowMs: config.webhooks.retryWindowMs,
    publicUrl: config.publicUrl,
    clock,
  });

  const cdn: CdnPurger = options.cdnPurger ?? new LogCdnPurger(logger);
  const podcasts = podcastsModule({
    db: db.kysely,
    store: blobs,
    uploads: uploads.service,
    logger,
    publicUrl: config.publicUrl,
    jobs,
    checkUrl: checkExternalAudioUrl,
    allowPrivateUrls: config.network.allowPrivateUrls,
    signer: new EnclosureSigner(deriveKey(jwtSecret, 'podcast-enclosures'), clock),
    cdn,
    clock,
  });

  // Ads: markers, normalization of their sources, and the splicing port playlist playback uses.
  // adFree: the money feature's "ad-free" plans answer it (default: nobody).
  const ads = adsModule({
    db: db.kysely,
    store: blobs,
    transcoder,
    playlists: playlists.service,
    streams: streamsFeature.service,
    uploads: uploads.service,
    logger,
    jobs,
    allowPrivateUrls: config.network.allowPrivateUrls,
    sourceMaxBytes: config.playlists.externalTrackMaxBytes,
    workDir,
    clock,
  });

  const backends = (): Record<string, string> => ({
    database: db.dialect,
    storage: config.storage.kind,
    mail: mailer.kind,
    virus_scan: scanner.kind,
    relay_launcher: relayLauncher.kind,
    cdn: cdn.kind,
  });
  const pages = pagesModule({
    streams: streamsFeature.service,
    relays,
    playlists: playlists.service,
    podcasts: podcasts.service,
    publicName: (userId) => auth.publicName(userId),
    playback,
    publicUrl: config.publicUrl,
  });
  const ops = opsModule({ backends, ping: () => db.ping(), registry: metrics.registry });

  /**
   * The feature modules: each registers its own routes, jobs and metrics, and
   * app.ts mounts their routes in this order. Adding a feature is one line here.
   */
  const modules: FeatureModule[] = [
    ops,
    authFeature,
    streamsFeature,
    uploads,
    playlists,
    podcasts,
    relaysFeature,
    webhooks,
    pages,
    ads,
  ];
  installModules(modules, { worker, registry: metrics.registry });
  const relayWatchdog = relaysFeature.watchdog;

  return {
    config,
    logger,
    db,
    metrics,
    auth,
    streams: streamsFeature.service,
    relays,
    relayLauncher,
    relayWatchdog,
    live: streamsFeature.live,
    blobs,
    mailer,
    jobs,
    playback,
    uploads: uploads.service,
    playlists: playlists.service,
    webhooks: webhooks.service,
    podcasts: podcasts.service,
    ads: ads.service,
    cdn,
    modules,
    scanner,
    transcoder,
    /** Not started here: main.ts starts it (serve, worker); tests start it when they need jobs to run. */
    worker,
    /** Temp folders of running jobs; main.ts sweeps what dead processes left here before starting the worker. */
    workDir,
    backends,
    async close() {
      await worker.stop();
      await relayWatchdog.stop();
      // Process relays are children of this server: none may outlive it.
      await relayLauncher.close();
      await db.close();
    },
  };
}

export type Container = Awaited<ReturnType<typeof createContainer>>;

/** The relay worker's blob store settings, in its own DJCAST_STORAGE* variables. */
function workerStorageEnv(storage: Config['storage']): Record<string, string> {
  if (storage.kind === 'local') return { DJCAST_STORAGE: 'local', DJCAST_STORAGE_DIR: storage.dir };
  const env: Record<string, string> = {
    DJCAST_STORAGE: 's3',
    DJCAST_S3_BUCKET: storage.bucket,
    DJCAST_S3_REGION: storage.region,
  };
  if (storage.endpoint) env.DJCAST_S3_ENDPOINT = storage.endpoint;
  if (storage.forcePathStyle) env.DJCAST_S3_FORCE_PATH_STYLE = 'true';
  if (storage.accessKeyId) env.DJCAST_S3_ACCESS_KEY_ID = storage.accessKeyId;
  if (storage.secretAccessKey) env.DJCAST_S3_SECRET_ACCESS_KEY = storage.secretAccessKey;
  return env;
}

function launcherFor(relay: Config['relay'], logger: RelayLogger): RelayLauncher {
  const launcher = relay.launcher;
  if (launcher.kind === 'kubernetes') {
    return createRelayLauncher({
      kind: 'kubernetes',
      cluster: launcher.kubeconfig ? { kubeconfigPath: launcher.kubeconfig } : { inCluster: true },
      namespace: launcher.namespace,
      image: launcher.image,
      logger,
    });
  }
  return createRelayLauncher({ kind: 'process', logger, parentEnv: relay.workerEnv });
}

/** Relay worker output and launcher events, as server log lines tagged with the relay. */
function relayLogger(logger: Logger): RelayLogger {
  return (entry: RelayLogEntry) => {
    const { msg, level, source, relayId, streamId, record } = entry;
    const fields: Record<string, unknown> = { event: 'relay.log', relay_source: source, relay_id: relayId, stream_id: streamId };
    if (record) fields.relay = record;
    logger[level](fields, msg);
  };
}
