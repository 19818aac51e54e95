#!/usr/bin/env node
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createContainer, type Container } from './container.js';
import { createDb, migrate } from './db/create-db.js';
import { serveHttp } from './http/server.js';
import { createHttpsServer } from './http/https-server.js';
import { sweepWorkDir } from './media/rendition.js';

/** Composition root: loadConfig -> createContainer -> createApp -> serve. */
async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'serve';
  const config = loadConfig();

  if (command === 'migrate') {
    const db = createDb({ url: config.database.url, schema: config.database.schema });
    const applied = await migrate(db, config.database.schema);
    await db.close();
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    return 0;
  }

  if (command === 'create-admin') {
    const [email, password] = [argv[1] ?? process.env.DJCAST_ADMIN_EMAIL, process.env.DJCAST_ADMIN_PASSWORD];
    if (!email || !password) {
      process.stderr.write('usage: DJCAST_ADMIN_PASSWORD=... djcast-server create-admin <email>\n');
      return 2;
    }
    const container = await createContainer(config);
    const user = await container.auth.ensureAdmin(email, password);
    await container.close();
    process.stdout.write(`${user.id} ${user.email} is an admin\n`);
    return 0;
  }

  if (command === 'worker') {
    // Only the job worker (transcodes, virus scans, external tracks): scale these out beside the API.
    const container = await createContainer(config);
    await startBackground(container, { worker: true, watchdog: false });
    container.logger.info({ event: 'worker.started', worker_id: container.worker.workerId }, 'djcast job worker running');
    const stop = (signal: string) => {
      container.logger.info({ event: 'worker.stopping', signal }, 'finishing running jobs');
      void container.close().then(() => process.exit(0));
      setTimeout(() => process.exit(1), 30_000).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    return -1;
  }

  if (command !== 'serve') {
    process.stderr.write(`unknown command "${command}"; use serve, worker, migrate or create-admin\n`);
    return 2;
  }

  const container = await createContainer(config);
  const app = createApp(container);
  await startBackground(container, { worker: config.jobs.inProcessWorker, watchdog: true });
  const server = serveHttp(app, config, (info) => {
    container.logger.info(
      {
        event: 'server.started',
        address: info.address,
        port: info.port,
        public_url: config.publicUrl,
        backends: container.backends(),
      },
      `djcast listening on ${config.publicUrl}`,
    );
  });

  // Custom domains over HTTPS, by SNI, when a port is configured.
  const httpsPort = config.domains.httpsPort;
  const https =
    httpsPort === undefined
      ? null
      : createHttpsServer(
          app,
          config.http,
          (name) => container.domains.secureContextFor(name),
          (servername, err) => container.logger.warn({ event: 'https.sni_failed', servername, err }, 'SNI lookup failed'),
        );
  https?.listen(httpsPort, config.host, () =>
    container.logger.info({ event: 'https.started', port: httpsPort }, `custom domains over HTTPS on port ${httpsPort}`),
  );

  const shutdown = (signal: string) => {
    container.logger.info({ event: 'server.stopping', signal }, 'shutting down');
    https?.close();
    server.close(async () => {
      await container.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return -1;
}

/**
 * Timers and loops start here, never while the container is built: the
 * temp folders of processes that died are swept first (a SIGKILL skips
 * every `finally`), then the job worker and the relay watchdog start.
 */
async function startBackground(container: Container, what: { worker: boolean; watchdog: boolean }): Promise<void> {
  const swept = await sweepWorkDir(container.workDir);
  if (swept.length > 0)
    container.logger.info({ event: 'work_dir.swept', removed: swept }, 'removed temp files left by a crashed process');
  if (what.worker) container.worker.start();
  await container.analytics.start();
  if (what.watchdog) container.relayWatchdog.start();
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
