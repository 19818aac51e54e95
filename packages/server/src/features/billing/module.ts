import type { FeatureModule } from '../../modules.js';
import { registerBillingRoutes } from './routes.js';
import { BillingService, type BillingDeps } from './service.js';

export type BillingModuleDeps = BillingDeps;

/**
 * Monetization: plans, subscriptions, and the one paywall policy. The
 * container hands `paywall` to the PlaybackAuthorizer (streams, playlists,
 * uploads) and to podcasts (personal feeds, enclosures); other features ask
 * `hasFeature` (the ads feature: "ad-free").
 */
export function billingModule(deps: BillingModuleDeps) {
  const service = new BillingService(deps);
  const module: FeatureModule & {
    service: BillingService;
    hasFeature: (userId: string, djOwnerId: string, feature: string) => Promise<boolean>;
  } = {
    name: 'billing',
    service,
    hasFeature: (userId, djOwnerId, feature) => service.hasFeature(userId, djOwnerId, feature),
    routes: (app) => registerBillingRoutes(app, service),
  };
  return module;
}
