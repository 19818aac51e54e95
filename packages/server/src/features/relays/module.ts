import type { FeatureModule } from '../../modules.js';
import type { Logger } from '../../logger.js';
import { registerRelayMetrics } from './metrics.js';
import { registerRelayRoutes } from './routes.js';
import type { RelaysService } from './service.js';
import { RelayWatchdog } from './watchdog.js';

export interface RelaysModuleDeps {
  relays: RelaysService;
  logger: Logger;
  watchdogIntervalMs: number;
}

/** Relay workers: heartbeats, per-relay metrics, and the stalled-relay watchdog (started by main.ts). */
export function relaysModule(deps: RelaysModuleDeps): FeatureModule & { watchdog: RelayWatchdog } {
  const { relays } = deps;
  return {
    name: 'relays',
    watchdog: new RelayWatchdog(relays, deps.logger, deps.watchdogIntervalMs),
    routes: (app) => registerRelayRoutes(app, relays),
    metrics: (registry) => registerRelayMetrics(registry, () => relays.metricRows()),
  };
}
