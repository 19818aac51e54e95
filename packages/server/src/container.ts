import { createBlobStore, type BlobStore } from '@djcast/relay/blob';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import { OutboxMailer, type Mailer } from './adapters/mailer/index.js';
import { createRelayLauncher } from './adapters/relay-launcher/index.js';
import type { RelayLauncher, RelayLogEntry, RelayLogger } from './adapters/relay-launcher/types.js';
import { createDb, migrate, type Db } from './db/create-db.js';
import { authModule } from './features/auth/module.js';
import { opsModule } from './features/ops/module.js';
import { pagesModule } from './features/pages/module.js';
import { WebSessions } from './features/pages/web-session.js';
import { relaysModule } from './features/relays/module.js';
import { RelaysService } from './features/relays/service.js';
import { streamsModule } from './features/streams/module.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, timedTranscoder, type Metrics } from './metrics.js';
import { jobQueueStats } from './jobs/metrics.js';
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
import { analyticsModule, createListenerSessions } from './features/analytics/module.js';
import { podcastsModule } from './features/podcasts/module.js';
import { billingModule } from './features/billing/module.js';
import { LocalBilling } from './adapters/billing/local.js';
import { archivesModule } from './features/archives/module.js';
import { artworksModule } from './features/artworks/module.js';
import { adsModule } from './features/ads/module.js';
import { EnclosureSigner } from './features/podcasts/enclosure-signing.js';
import { LogCdnPurger } from './adapters/cdn/log.js';
import type { CdnPurger } from './adapters/cdn/types.js';
import { installModules, type FeatureModule } from './modules.js';
import { domainsModule } from './features/domains/module.js';
import { createDnsProvider } from './adapters/dns/index.js';
import { NodeDnsLookup } from './adapters/dns/resolver.js';
import type { DnsLookup } from './adapters/dns/types.js';
import { createCertificateIssuer } from './adapters/certificates/index.js';
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
  /** Replaces the DNS reader of the domain verifier. */
  dnsLookup?: DnsLookup;
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
  // Vendor clients (nodemailer, stripe, cloudflare, acme-client, the AWS and Kubernetes SDKs) are
  // imported below only when config picks them: loaded for nothing they cost the embedded
  // defaults tens of MB of resident memory and startup time.
  const mailer: Mailer =
    config.mail.kind === 'smtp'
      ? new (await import('./adapters/mailer/smtp.js')).SmtpMailer(config.mail.url, config.mail.from, logger)
      : new OutboxMailer(db.kysely, logger);
  const jobs = new JobQueue(db, clock);
  // Monetization: the one paywall policy every kind of playback asks (PlaybackAuthorizer, podcasts).
  const stripeAdapter = config.billing.stripe ? await import('./adapters/billing/stripe.js') : null;
  const stripe = stripeAdapter && config.billing.stripe ? stripeAdapter.createStripeClient(config.billing.stripe) : null;
  const billing = billingModule({
    db: db.kysely,
    provider:
      stripeAdapter && stripe && config.billing.stripe
        ? new stripeAdapter.StripeBilling(stripe, { applicationFeePercent: config.billing.stripe.applicationFeePercent })
        : new LocalBilling(config.publicUrl, clock),
    verifyWebhook:
      stripeAdapter && stripe && config.billing.stripe?.webhookSecret
        ? stripeAdapter.stripeWebhookVerifier(stripe, config.billing.stripe.webhookSecret)
        : undefined,
    mailer,
    jobs,
    logger,
    publicUrl: config.publicUrl,
    graceMs: config.billing.graceMs,
    applicationFeePercent: config.billing.stripe?.applicationFeePercent ?? null,
    clock,
  });
  const playback = new PlaybackAuthorizer(
    deriveKey(jwtSecret, 'playback-tokens'),
    auth,
    (principal, resource) => billing.service.allows(principal, resource),
    clock,
    (principal, resource, what) => billing.service.denial(principal?.userId ?? null, resource, what),
  );
  const blobs: BlobStore = await createBlobStore(config.storage);
  const relayLauncher: RelayLauncher = options.relayLauncher ?? (await launcherFor(config.relay, relayLogger(logger)));
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
  const listenerSessions = createListenerSessions({
    db: db.kysely,
    logger,
    flushIntervalMs: config.analytics.flushIntervalMs,
    clock,
  });
  // Artwork of stream and playlist pages (podcasts keep their own, under Apple's rules).
  const artworks = artworksModule({ db: db.kysely, store: blobs, publicUrl: config.publicUrl, clock });
  const relaysFeature = relaysModule({ relays, logger, watchdogIntervalMs: config.relay.watchdogIntervalMs });
  const streamsFeature = streamsModule({
    db: db.kysely,
    cipher,
    publicUrl: config.publicUrl,
    relays,
    probe: { allowPrivateUrls: config.network.allowPrivateUrls, timeoutMs: config.relay.probeTimeoutMs },
    playback,
    store: blobs,
    sessions: listenerSessions,
    artworks: artworks.service,
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
  const transcoder = timedTranscoder(new FfmpegTranscoder(), metrics.transcodeDuration);
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
    artworks: artworks.service,
    cacheSeconds: config.playlists.cacheSeconds,
    streamPaceFactor: config.playlists.streamPaceFactor,
    listenerIdleMs: config.http.listenerIdleMs,
    sessions: listenerSessions,
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

  const cdn: CdnPurger =
    options.cdnPurger ??
    (config.cdn.kind === 'cloudflare'
      ? new (await import('./adapters/cdn/cloudflare.js')).CloudflareCdnPurger(config.cdn, logger)
      : new LogCdnPurger(logger));
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
    paywall: billing.service,
  });

  const analytics = analyticsModule({
    db: db.kysely,
    streams: streamsFeature.service,
    playlists: playlists.service,
    podcasts: podcasts.service,
    jobs,
    logger,
    sessions: listenerSessions,
    rawRetentionDays: config.analytics.rawRetentionDays,
    foldIntervalMs: config.analytics.foldIntervalMs,
    clock,
  });

  const dnsProvider = await createDnsProvider(config.domains.provider);
  const certificateIssuer = await createCertificateIssuer(config.domains.acme, db.kysely, cipher);
  const domains = domainsModule({
    db: db.kysely,
    jobs,
    mailer,
    cipher,
    lookup: options.dnsLookup ?? new NodeDnsLookup(config.domains.resolvers),
    provider: dnsProvider,
    issuer: certificateIssuer,
    podcasts: podcasts.service,
    logger,
    settings: config.domains,
    clock,
  });

  const archives = archivesModule({
    db: db.kysely,
    store: blobs,
    streams: streamsFeature.service,
    relays,
    podcasts: podcasts.service,
    uploads: uploads.service,
    jobs,
    logger,
    workDir,
    handoverMs: 2 * (config.relay.heartbeatIntervalMs ?? 5000) + config.relay.segmentSeconds * 1000,
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
    live: streamsFeature.live,
    playback,
    uploads: uploads.service,
    logger,
    jobs,
    allowPrivateUrls: config.network.allowPrivateUrls,
    sourceMaxBytes: config.playlists.externalTrackMaxBytes,
    relays,
    signer: new EnclosureSigner(deriveKey(jwtSecret, 'ad-break-audio'), clock),
    workDir,
    clock,
    // Subscribers whose plan has the "ad-free" feature hear no ads from that DJ.
    adFree: (userId, djOwnerId) => (userId ? billing.hasFeature(userId, djOwnerId, 'ad-free') : Promise.resolve(false)),
  });

  const backends = (): Record<string, string> => ({
    database: db.dialect,
    storage: config.storage.kind,
    mail: mailer.kind,
    virus_scan: scanner.kind,
    relay_launcher: relayLauncher.kind,
    cdn: cdn.kind,
    dns: dnsProvider.kind,
    certificates: certificateIssuer.kind,
    billing: billing.service.mode,
  });
  const pages = pagesModule({
    streams: streamsFeature.service,
    relays,
    playlists: playlists.service,
    podcasts: podcasts.service,
    artworks: artworks.service,
    publicName: (userId) => auth.publicName(userId),
    playback,
    publicUrl: config.publicUrl,
    plansFor: (resource) => billing.service.plansUnlocking(resource),
    web: {
      auth,
      billing: billing.service,
      sessions: new WebSessions(deriveKey(jwtSecret, 'web-forms'), config.publicUrl),
      publicUrl: config.publicUrl,
    },
  });
  const ops = opsModule({
    backends,
    ping: () => db.ping(),
    registry: metrics.registry,
    metricsToken: config.metrics.token,
    jobQueue: { stats: () => jobQueueStats(db, clock()), kinds: () => worker.kinds, clock },
  });

  /**
   * The feature modules: each registers its own routes, jobs and metrics, and
   * app.ts mounts their routes in this order. Adding a feature is one line here.
   */
  const modules: FeatureModule[] = [
    ops,
    authFeature,
    streamsFeature,
    artworks,
    uploads,
    playlists,
    podcasts,
    relaysFeature,
    webhooks,
    pages,
    analytics,
    domains,
    billing,
    archives,
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
    artworks: artworks.service,
    webhooks: webhooks.service,
    podcasts: podcasts.service,
    domains: domains.service,
    billing: billing.service,
    /** For the ads feature: whether a listener's subscription to the DJ includes a feature ("ad-free"). */
    hasFeature: billing.hasFeature,
    ads: ads.service,
    cdn,
    analytics: analytics.service,
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
      uploads.service.close();
      await relayWatchdog.stop();
      // Open listener sessions end now and are written before the database closes.
      await analytics.service.stop().catch(() => {});
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

function launcherFor(relay: Config['relay'], logger: RelayLogger): Promise<RelayLauncher> {
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
