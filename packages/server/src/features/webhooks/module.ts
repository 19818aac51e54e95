import { registerEventWebhooks } from '../../events/catalog.js';
import type { FeatureModule } from '../../modules.js';
import { deliverWebhookJob, fanOutEventJob } from './jobs.js';
import { createWebhookCounters, registerWebhookMetrics } from './metrics.js';
import * as repo from './repository.js';
import { registerWebhookRoutes } from './routes.js';
import { WebhooksService, type WebhooksDeps } from './service.js';

export type WebhooksModuleDeps = Omit<WebhooksDeps, 'observe'>;

/**
 * Webhooks: endpoints, the event log and its live stream, and the jobs that
 * fan each event out and deliver it. Features emit events with
 * `emitEvent` (src/events/); this module is the one that sends them.
 */
export function webhooksModule(deps: WebhooksModuleDeps): FeatureModule & { service: WebhooksService } {
  const counters = createWebhookCounters();
  const service = new WebhooksService({ ...deps, observe: counters.observe });
  const clock = deps.clock ?? (() => new Date());
  return {
    name: 'webhooks',
    service,
    jobs: [fanOutEventJob(service), deliverWebhookJob(service)],
    routes: (app) => {
      registerWebhookRoutes(app, service);
      registerEventWebhooks(app.openAPIRegistry);
    },
    metrics: (registry) => registerWebhookMetrics(registry, counters, () => repo.openDeliveryStats(deps.db), clock),
  };
}
