import type { FeatureModule } from '../../modules.js';
import { registerBillingRoutes } from './routes.js';
import { PayoutsService } from './payouts.js';
import { registerPayoutRoutes } from './payout-routes.js';
import { BillingService, type BillingDeps } from './service.js';

export type BillingModuleDeps = BillingDeps;

/**
 * Monetization: plans, subscriptions, DJs' payout accounts (Stripe Connect), and the one paywall policy. The
 * container hands `paywall` to the PlaybackAuthorizer (streams, playlists,
 * uploads) and to podcasts (personal feeds, enclosures); other features ask
 * `hasFeature` (the ads feature: "ad-free").
 */
export function billingModule(deps: BillingModuleDeps) {
  const payouts = new PayoutsService(deps);
  const service = new BillingService(deps, payouts);
  const module: FeatureModule & {
    service: BillingService;
    payouts: PayoutsService;
    hasFeature: (userId: string, djOwnerId: string, feature: string) => Promise<boolean>;
  } = {
    name: 'billing',
    service,
    payouts,
    hasFeature: (userId, djOwnerId, feature) => service.hasFeature(userId, djOwnerId, feature),
    routes: (app) => {
      registerBillingRoutes(app, service);
      registerPayoutRoutes(app, payouts);
    },
  };
  return module;
}
