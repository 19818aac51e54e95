/**
 * The billing provider behind plans and subscriptions. `local` is the
 * explicit test mode (no money moves, every object says provider "local");
 * `stripe` creates Products, Prices, Customers and Subscriptions on the DJ's
 * connected account. Services call this interface only; no vendor SDK
 * outside adapters/billing.
 */
export type BillingInterval = 'month' | 'year';

export interface ProviderPlan {
  planId: string;
  name: string;
  priceCents: number;
  currency: string;
  interval: BillingInterval;
  /** The DJ's connected account (Stripe Connect); null in local mode. */
  account: string | null;
}

export interface ProviderSubscriptionRequest {
  subscriptionId: string;
  listenerId: string;
  listenerEmail: string;
  /** The listener's existing customer at the provider, when there is one. */
  customerId: string | null;
  priceId: string | null;
  plan: ProviderPlan;
  paymentMethodId: string | null;
  /** Where a Checkout page returns the listener to. */
  returnUrl: string;
}

export interface ProviderSubscription {
  status: 'pending' | 'incomplete' | 'active' | 'past_due' | 'unpaid' | 'canceled';
  customerId: string | null;
  subscriptionId: string | null;
  /** A hosted checkout page, when the listener still has to enter a card. */
  checkoutUrl: string | null;
  currentPeriodEnd: Date | null;
}

/** A DJ's connected account as the provider reports it (Stripe Connect, Express). */
export interface ConnectedAccountState {
  accountId: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  /** Requirement names currently due (what the DJ still has to fill in). */
  requirementsDue: string[];
  disabledReason: string | null;
}

/** Connect: the accounts DJs are paid into. Only providers that move money have it. */
export interface PayoutProvider {
  /** Creates the DJ's connected account; the same user id always yields the same account (idempotency key). */
  createConnectedAccount(req: { userId: string; email: string; country?: string | undefined }): Promise<ConnectedAccountState>;
  /** A single-use, short-lived onboarding link (an Account Link) for the account. */
  onboardingLink(accountId: string, urls: { refreshUrl: string; returnUrl: string }): Promise<string>;
  /** The account's current state, read from the provider. */
  getConnectedAccount(accountId: string): Promise<ConnectedAccountState>;
}

export interface BillingProvider {
  readonly kind: 'local' | 'stripe';
  /** Connected accounts for DJs' payouts; null in local test mode (no money moves, no account needed). */
  readonly payouts: PayoutProvider | null;
  /** Creates what the provider sells the plan as; returns its ids (null in local mode). */
  createPlan(plan: ProviderPlan): Promise<{ productId: string | null; priceId: string | null }>;
  /** A new price for a changed plan; the old one is archived (its subscribers keep it). */
  replacePrice(plan: ProviderPlan, productId: string | null, oldPriceId: string | null): Promise<{ priceId: string | null }>;
  /** Stops selling the plan. */
  archivePlan(plan: ProviderPlan, productId: string | null, priceId: string | null): Promise<void>;
  createSubscription(req: ProviderSubscriptionRequest): Promise<ProviderSubscription>;
  /** Cancels at the end of the paid period, or at once. */
  cancelSubscription(sub: { subscriptionId: string | null; account: string | null }, atPeriodEnd: boolean): Promise<void>;
  /** Where the listener changes their card and sees invoices. */
  portalUrl(
    sub: { customerId: string | null; account: string | null; subscriptionId: string },
    returnUrl: string,
  ): Promise<string>;
}

/** The provider is unreachable or failing: the caller gets 503 and nothing is left half-created. */
export class BillingUnavailable extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'BillingUnavailable';
  }
}

/** The provider declined the listener's card: the caller gets 402 with the reason, and nothing is created. */
export class PaymentDeclined extends Error {
  constructor(
    message: string,
    /** The provider's reason, e.g. `insufficient_funds` (Stripe's decline_code, else its code). */
    readonly declineCode: string | null,
  ) {
    super(message);
    this.name = 'PaymentDeclined';
  }
}

/** Adds one billing interval to a date (month: same day next month, clamped by JS Date). */
export function addInterval(from: Date, interval: BillingInterval): Date {
  const next = new Date(from.getTime());
  if (interval === 'month') next.setUTCMonth(next.getUTCMonth() + 1);
  else next.setUTCFullYear(next.getUTCFullYear() + 1);
  return next;
}
