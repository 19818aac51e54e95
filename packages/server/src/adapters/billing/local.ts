import { addInterval, type BillingProvider, type ProviderSubscription, type ProviderSubscriptionRequest } from './types.js';

/**
 * The explicit local test mode: plans and subscriptions are recorded by the
 * API, no money moves, nothing is sent anywhere. A subscription is active at
 * once for one billing interval; `POST /v1/subscriptions/{id}/local-state`
 * (djcast subscription state) moves it through its other states.
 */
export class LocalBilling implements BillingProvider {
  readonly kind = 'local' as const;
  /** No money moves, so DJs need no connected account. */
  readonly payouts = null;

  constructor(
    private readonly publicUrl: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async createPlan() {
    return { productId: null, priceId: null };
  }

  async replacePrice() {
    return { priceId: null };
  }

  async archivePlan() {}

  async createSubscription(req: ProviderSubscriptionRequest): Promise<ProviderSubscription> {
    return {
      status: 'active',
      customerId: null,
      subscriptionId: null,
      checkoutUrl: null,
      currentPeriodEnd: addInterval(this.clock(), req.plan.interval),
    };
  }

  async cancelSubscription() {}

  async portalUrl(sub: { subscriptionId: string }): Promise<string> {
    // No hosted portal in test mode: the subscription itself is where its state is seen and changed.
    return `${this.publicUrl}/v1/subscriptions/${sub.subscriptionId}`;
  }
}
