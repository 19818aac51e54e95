import type { FeatureModule } from '../../modules.js';
import { domainJobs } from './jobs.js';
import { registerDomainMetrics } from './metrics.js';
import { registerCustomHostRoutes, registerDomainRoutes } from './routes.js';
import { DomainsService, type DomainsDeps } from './service.js';

export type DomainsModuleDeps = DomainsDeps;

/** Custom domains: TXT verification, the CNAME through a DNS provider, ACME certificates, and what the hostnames serve. */
export function domainsModule(deps: DomainsModuleDeps): FeatureModule & { service: DomainsService } {
  const service = new DomainsService(deps);
  return {
    name: 'domains',
    service,
    jobs: domainJobs(service),
    routes: (app) => {
      registerDomainRoutes(app, service);
      registerCustomHostRoutes(app, service);
    },
    metrics: (registry) => registerDomainMetrics(registry, () => service.certificateExpiries()),
  };
}
