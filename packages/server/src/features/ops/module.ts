import type { Registry } from 'prom-client';
import type { FeatureModule } from '../../modules.js';
import { registerJobQueueMetrics, type JobQueueRow } from '../../jobs/metrics.js';
import { registerOpsRoutes } from './routes.js';

export interface OpsModuleDeps {
  /** Which implementation is live for each outside concern (shown by /healthz). */
  backends: () => Record<string, string>;
  /** Whether the database answers (/readyz). */
  ping: () => Promise<boolean>;
  /** What /metrics exposes. */
  registry: Registry;
  /** When set, /metrics answers only `Authorization: Bearer <token>` (stream ids are labels). */
  metricsToken?: string | undefined;
  /** The durable job queue, for its depth and age gauges. */
  jobQueue?: { stats: () => Promise<JobQueueRow[]>; kinds: () => readonly string[]; clock: () => Date };
}

/** Operations endpoints: liveness, readiness and Prometheus metrics (and the job queue's gauges). */
export function opsModule(deps: OpsModuleDeps): FeatureModule {
  return {
    name: 'ops',
    routes: (app) => registerOpsRoutes(app, deps),
    metrics: (registry) => {
      if (deps.jobQueue) registerJobQueueMetrics(registry, deps.jobQueue);
    },
  };
}
