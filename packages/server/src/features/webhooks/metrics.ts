import { Counter, Gauge, type Registry } from 'prom-client';
import type { AttemptOutcome } from './service.js';

/** Counters the delivery code bumps; created before the registry is known, registered by the module. */
export function createWebhookCounters() {
  const attempts = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts, by outcome (succeeded, http_error, timeout, network_error, not_allowed)',
    labelNames: ['outcome'] as const,
    registers: [],
  });
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook deliveries that ended, by outcome (succeeded, failed: given up after the retry window or endpoint disabled)',
    labelNames: ['outcome'] as const,
    registers: [],
  });
  return {
    attempts,
    deliveries,
    observe: {
      attempt: (outcome: AttemptOutcome) => attempts.inc({ outcome }),
      delivery: (outcome: 'succeeded' | 'failed') => deliveries.inc({ outcome }),
    },
  };
}

/**
 * The counters, and the queue gauges read from the shared database at scrape
 * time (every replica reports the same queue): the age of the oldest
 * unfinished delivery, and how many there are.
 */
export function registerWebhookMetrics(
  registry: Registry,
  counters: ReturnType<typeof createWebhookCounters>,
  stats: () => Promise<{ oldest: string | null; count: number }>,
  clock: () => Date,
): void {
  registry.registerMetric(counters.attempts);
  registry.registerMetric(counters.deliveries);
  let pending: Promise<{ oldest: string | null; count: number }> | null = null;
  const snapshot = () => {
    pending ??= stats().finally(() => setTimeout(() => (pending = null), 0));
    return pending;
  };
  new Gauge({
    name: 'webhook_delivery_queue_age_seconds',
    help: 'Age of the oldest webhook delivery not yet delivered or given up (0 when none)',
    registers: [registry],
    async collect() {
      const { oldest } = await snapshot();
      this.set(oldest ? Math.max(0, (clock().getTime() - Date.parse(oldest)) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'webhook_deliveries_open',
    help: 'Webhook deliveries not yet delivered or given up',
    registers: [registry],
    async collect() {
      this.set((await snapshot()).count);
    },
  });
}
