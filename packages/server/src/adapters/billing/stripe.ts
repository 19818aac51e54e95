import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import {
  BillingUnavailable,
  PaymentDeclined,
  type BillingProvider,
  type PayoutProvider,
  type ProviderPlan,
  type ProviderSubscription,
  type ProviderSubscriptionRequest,
} from './types.js';
import { connectedAccountState, ourStatus, periodEnd } from './stripe-mapping.js';

export { connectedAccountState, ourStatus, periodEnd };

/** The Stripe API version every call is pinned to (the package's own; webhooks are read in it too). */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface StripeBillingOptions {
  secretKey: string;
  /** Where the API is (a loopback fake in tests); api.stripe.com by default. */
  apiBase?: string | undefined;
  /** The platform's cut of each subscription paid to a DJ's connected account. */
  applicationFeePercent: number;
  timeoutMs?: number;
}

/** Builds the client; the only place in the codebase that knows the stripe package. */
export function createStripeClient(opts: StripeBillingOptions): Stripe {
  const base = opts.apiBase ? new URL(opts.apiBase) : null;
  return new Stripe(opts.secretKey, {
    apiVersion: STRIPE_API_VERSION as never,
    maxNetworkRetries: 1,
    timeout: opts.timeoutMs ?? 20_000,
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
}

/**
 * Plans as Products and Prices, subscriptions as Customers and Subscriptions
 * (or a Checkout Session), on the DJ's connected account when there is one.
 * Every call carries an idempotency key derived from our own ids, so a retry
 * after a timeout never creates a second object.
 */
export class StripeBilling implements BillingProvider, PayoutProvider {
  readonly kind = 'stripe' as const;
  readonly payouts: PayoutProvider = this;

  constructor(
    private readonly stripe: Stripe,
    private readonly opts: { applicationFeePercent: number },
  ) {}

  // ---- Connect (Express): the accounts DJs are paid into. Platform calls: no Stripe-Account header.

  async createConnectedAccount(req: { userId: string; email: string; country?: string | undefined }) {
    return this.call(async () => {
      const account = await this.stripe.accounts.create(
        {
          type: 'express',
          ...(req.email ? { email: req.email } : {}),
          ...(req.country ? { country: req.country } : {}),
          capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
          metadata: { djcast_user_id: req.userId },
        },
        // One account per DJ: a retry after a timeout (or a lost local write) gets the same account back.
        { idempotencyKey: `${req.userId}-connect-account` },
      );
      return connectedAccountState(account);
    });
  }

  async onboardingLink(accountId: string, urls: { refreshUrl: string; returnUrl: string }) {
    return this.call(async () => {
      const link = await this.stripe.accountLinks.create(
        { account: accountId, type: 'account_onboarding', refresh_url: urls.refreshUrl, return_url: urls.returnUrl },
        // Account Links are single-use: each request is a new one on purpose.
        { idempotencyKey: `${accountId}-link-${randomUUID()}` },
      );
      return link.url;
    });
  }

  async getConnectedAccount(accountId: string) {
    return this.call(async () => connectedAccountState(await this.stripe.accounts.retrieve(accountId)));
  }

  private static request(key: string, account: string | null): Stripe.RequestOptions {
    return { idempotencyKey: key, ...(account ? { stripeAccount: account } : {}) };
  }

  async createPlan(plan: ProviderPlan) {
    return this.call(async () => {
      const product = await this.stripe.products.create(
        { name: plan.name, metadata: { djcast_plan_id: plan.planId } },
        StripeBilling.request(`${plan.planId}-product`, plan.account),
      );
      const price = await this.stripe.prices.create(
        {
          product: product.id,
          unit_amount: plan.priceCents,
          currency: plan.currency,
          recurring: { interval: plan.interval },
          metadata: { djcast_plan_id: plan.planId },
        },
        StripeBilling.request(`${plan.planId}-price-${plan.priceCents}`, plan.account),
      );
      return { productId: product.id, priceId: price.id };
    });
  }

  async replacePrice(plan: ProviderPlan, productId: string | null, oldPriceId: string | null) {
    return this.call(async () => {
      if (!productId) throw new Error(`plan ${plan.planId} has no Stripe product`);
      const price = await this.stripe.prices.create(
        {
          product: productId,
          unit_amount: plan.priceCents,
          currency: plan.currency,
          recurring: { interval: plan.interval },
          metadata: { djcast_plan_id: plan.planId },
        },
        StripeBilling.request(`${plan.planId}-price-${plan.priceCents}`, plan.account),
      );
      // Existing subscriptions keep the archived price: Stripe goes on charging it.
      if (oldPriceId) {
        await this.stripe.prices.update(
          oldPriceId,
          { active: false },
          StripeBilling.request(`${oldPriceId}-archive`, plan.account),
        );
      }
      return { priceId: price.id };
    });
  }

  async archivePlan(plan: ProviderPlan, productId: string | null) {
    await this.call(async () => {
      if (productId) {
        await this.stripe.products.update(
          productId,
          { active: false },
          StripeBilling.request(`${productId}-archive`, plan.account),
        );
      }
    });
  }

  async createSubscription(req: ProviderSubscriptionRequest): Promise<ProviderSubscription> {
    return this.call(async () => {
      if (!req.priceId) throw new Error(`plan ${req.plan.planId} has no Stripe price`);
      const account = req.plan.account;
      const fee = account ? { application_fee_percent: this.opts.applicationFeePercent } : {};
      const metadata = { djcast_subscription_id: req.subscriptionId, djcast_listener_id: req.listenerId };
      if (!req.paymentMethodId) {
        const session = await this.stripe.checkout.sessions.create(
          {
            mode: 'subscription',
            line_items: [{ price: req.priceId, quantity: 1 }],
            client_reference_id: req.subscriptionId,
            ...(req.customerId ? { customer: req.customerId } : { customer_email: req.listenerEmail }),
            success_url: req.returnUrl,
            cancel_url: req.returnUrl,
            subscription_data: { metadata, ...fee },
          },
          StripeBilling.request(`${req.subscriptionId}-checkout`, account),
        );
        return {
          status: 'pending',
          customerId: req.customerId,
          subscriptionId: null,
          checkoutUrl: session.url,
          currentPeriodEnd: null,
        };
      }
      const customerId =
        req.customerId ??
        (
          await this.stripe.customers.create(
            {
              email: req.listenerEmail,
              payment_method: req.paymentMethodId,
              invoice_settings: { default_payment_method: req.paymentMethodId },
              metadata: { djcast_user_id: req.listenerId },
            },
            StripeBilling.request(`${req.subscriptionId}-customer`, account),
          )
        ).id;
      const sub = await this.stripe.subscriptions.create(
        { customer: customerId, items: [{ price: req.priceId }], metadata, ...fee },
        StripeBilling.request(req.subscriptionId, account),
      );
      return {
        status: ourStatus(sub.status),
        customerId,
        subscriptionId: sub.id,
        checkoutUrl: null,
        currentPeriodEnd: periodEnd(sub as never),
      };
    });
  }

  async cancelSubscription(sub: { subscriptionId: string | null; account: string | null }, atPeriodEnd: boolean) {
    await this.call(async () => {
      if (!sub.subscriptionId) return;
      if (atPeriodEnd) {
        await this.stripe.subscriptions.update(
          sub.subscriptionId,
          { cancel_at_period_end: true },
          StripeBilling.request(`${sub.subscriptionId}-cancel-at-end`, sub.account),
        );
      } else {
        await this.stripe.subscriptions.cancel(
          sub.subscriptionId,
          {},
          StripeBilling.request(`${sub.subscriptionId}-cancel`, sub.account),
        );
      }
    });
  }

  async portalUrl(sub: { customerId: string | null; account: string | null; subscriptionId: string }, returnUrl: string) {
    return this.call(async () => {
      if (!sub.customerId) throw new Error(`subscription ${sub.subscriptionId} has no Stripe customer yet`);
      const session = await this.stripe.billingPortal.sessions.create(
        { customer: sub.customerId, return_url: returnUrl },
        // A portal session is short-lived and single-use: a fresh key each time.
        StripeBilling.request(`${sub.subscriptionId}-portal-${randomUUID()}`, sub.account),
      );
      return session.url;
    });
  }

  /**
   * Stripe connection and server errors become BillingUnavailable (503), a declined card PaymentDeclined (402);
   * its other refusals stay errors (the caller words them).
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === 'StripeCardError') {
        const { decline_code, code } = error as { decline_code?: string; code?: string };
        throw new PaymentDeclined((error as Error).message, decline_code ?? code ?? null);
      }
      if (type === 'StripeConnectionError' || type === 'StripeAPIError' || type === 'StripeRateLimitError') {
        throw new BillingUnavailable(`Stripe is unavailable: ${(error as Error).message}`, error);
      }
      throw error;
    }
  }
}

/** A verified provider event, as the billing service reads it. */
export interface BillingEvent {
  id: string;
  type: string;
  /** When the provider created the event: what out-of-order deliveries are ordered by. */
  created: Date;
  object: Record<string, any>;
}

/** How long after it was signed a webhook is still accepted (Stripe's default tolerance). */
export const STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Verifies a Stripe webhook's signature (with the endpoint secret and the
 * tolerance window) and returns its event; throws on a bad, missing or stale one.
 */
export function stripeWebhookVerifier(stripe: Stripe, secret: string) {
  return (raw: string, signature: string | undefined): BillingEvent => {
    if (!signature) throw new Error('no Stripe-Signature header');
    const event = stripe.webhooks.constructEvent(raw, signature, secret, STRIPE_WEBHOOK_TOLERANCE_SECONDS);
    return {
      id: event.id,
      type: event.type,
      created: new Date(event.created * 1000),
      object: event.data.object as unknown as Record<string, any>,
    };
  };
}
