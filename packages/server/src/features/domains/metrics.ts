import { Gauge, type Registry } from 'prom-client';

/** Each active domain's certificate expiry, read from the shared database at scrape time, for alerting. */
export function registerDomainMetrics(
  registry: Registry,
  expiries: () => Promise<{ hostname: string; not_after: string }[]>,
): void {
  new Gauge({
    name: 'djcast_certificate_expiry_timestamp_seconds',
    help: 'When the certificate served for a custom domain expires (Unix seconds)',
    labelNames: ['hostname'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { hostname, not_after } of await expiries()) this.set({ hostname }, Math.floor(Date.parse(not_after) / 1000));
    },
  });
}
