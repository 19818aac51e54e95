import type { Registry } from 'prom-client';
import type { FeatureModule } from '../../modules.js';
import { registerOpsRoutes } from './routes.js';

export interface OpsModuleDeps {
  /** Which implementation is live for each outside concern (shown by /healthz). */
  backends: () => Record<string, string>;
  /** Whether the database answers (/readyz). */
  ping: () => Promise<boolean>;
  /** What /metrics exposes. */
  registry: Registry;
}

/** Operations endpoints: liveness, readiness and Prometheus metrics. */
export function opsModule(deps: OpsModuleDeps): FeatureModule {
  return {
    name: 'ops',
    routes: (app) => registerOpsRoutes(app, deps),
  };
}
