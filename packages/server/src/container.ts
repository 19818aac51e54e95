import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import { OutboxMailer, SmtpMailer, type Mailer } from './adapters/mailer/index.js';
import { createDb, migrate, type Db } from './db/create-db.js';
import { AuthService } from './features/auth/service.js';
import { StreamsService } from './features/streams/service.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { PlaybackAuthorizer } from './http/playback.js';
import { JobQueue } from './jobs/queue.js';
import { FieldCipher, deriveKey, loadOrCreateSecret } from './secrets.js';

export interface ContainerOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  clock?: () => Date;
  defaultMetrics?: boolean;
}

/**
 * Picks adapter implementations from config and builds the services. The
 * only place that constructs clients, pools and adapters.
 */
export async function createContainer(config: Config, options: ContainerOptions = {}) {
  const logger: Logger = createLogger(config.logLevel, options.logDestination);
  const db: Db = createDb({ url: config.database.url, schema: config.database.schema });
  await migrate(db, config.database.schema);

  const clock = options.clock ?? (() => new Date());
  const jwtSecret = loadOrCreateSecret(config.auth.jwtSecret, config.dataDir, 'jwt-secret');
  const cipher = new FieldCipher(loadOrCreateSecret(config.encryptionKey, config.dataDir, 'encryption-key'));
  const metrics: Metrics = createMetrics({ poolUsage: () => db.poolUsage(), defaultMetrics: options.defaultMetrics });

  const auth = new AuthService(
    db.kysely,
    {
      jwt: {
        secret: jwtSecret,
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        ttlSeconds: config.auth.accessTokenTtlSeconds,
      },
      refreshTokenTtlSeconds: config.auth.refreshTokenTtlSeconds,
      loginMaxFailures: config.auth.loginMaxFailures,
      loginMaxFailuresPerIp: config.auth.loginMaxFailuresPerIp,
      loginWindowSeconds: config.auth.loginWindowSeconds,
    },
    clock,
  );
  if (config.auth.bootstrapAdmin) {
    await auth.ensureAdmin(config.auth.bootstrapAdmin.email, config.auth.bootstrapAdmin.password);
  }
  const mailer: Mailer =
    config.mail.kind === 'smtp' ? new SmtpMailer(config.mail.url, config.mail.from, logger) : new OutboxMailer(db.kysely, logger);
  const jobs = new JobQueue(db, clock);
  const playback = new PlaybackAuthorizer(deriveKey(jwtSecret, 'playback-tokens'), auth, undefined, clock);
  const streams = new StreamsService(db.kysely, cipher, config.publicUrl, clock);

  return {
    config,
    logger,
    db,
    metrics,
    auth,
    streams,
    mailer,
    jobs,
    playback,
    backends: (): Record<string, string> => ({
      database: db.dialect,
      storage: config.storage.kind,
      mail: mailer.kind,
    }),
    async close() {
      await db.close();
    },
  };
}

export type Container = Awaited<ReturnType<typeof createContainer>>;
