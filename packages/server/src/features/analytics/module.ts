import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import type { Logger } from '../../logger.js';
import type { FeatureModule } from '../../modules.js';
import { foldAnalyticsJob } from './jobs.js';
import { insertSessions } from './repository.js';
import { registerAnalyticsRoutes } from './routes.js';
import { AnalyticsService, type AnalyticsDeps } from './service.js';
import { SessionRecorder } from './sessions.js';

/**
 * The listener-session recorder the playback features write into; built
 * before them (container.ts) and handed to the analytics module.
 */
export function createListenerSessions(deps: {
  db: Kysely<Database>;
  logger: Logger;
  flushIntervalMs: number;
  clock?: () => Date;
}): SessionRecorder {
  return new SessionRecorder({
    write: (rows) => insertSessions(deps.db, rows),
    clock: deps.clock ?? (() => new Date()),
    flushIntervalMs: deps.flushIntervalMs,
    onWriteError: (error) =>
      deps.logger.error(
        { event: 'analytics.sessions_write_failed', err: error },
        'could not write listener sessions; kept for the next try',
      ),
  });
}

/**
 * Analytics: listener sessions recorded by the playback routes (buffered,
 * written in batches), a job that folds raw rows into daily aggregates and
 * deletes them after the retention, and the owner-only analytics API.
 */
export function analyticsModule(deps: AnalyticsDeps): FeatureModule & { service: AnalyticsService } {
  const service = new AnalyticsService(deps);
  const clock = deps.clock ?? (() => new Date());
  return {
    name: 'analytics',
    service,
    jobs: [foldAnalyticsJob(service)],
    routes: (app) => registerAnalyticsRoutes(app, service, clock),
  };
}
