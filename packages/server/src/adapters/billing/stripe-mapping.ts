// Stripe's objects read into ours: pure, and free of the stripe package so the billing service may use them.

import type { ConnectedAccountState, ProviderSubscription } from './types.js';

/** Stripe's subscription statuses in ours. */
export function ourStatus(status: string): ProviderSubscription['status'] {
  switch (status) {
    case 'active':
    case 'trialing':
      return 'active';
    case 'past_due':
      return 'past_due';
    case 'unpaid':
      return 'unpaid';
    case 'canceled':
    case 'incomplete_expired':
      return 'canceled';
    default:
      return 'incomplete';
  }
}

/** The period end of a subscription (on its items since the 2025 API versions; on the subscription before). */
export function periodEnd(sub: {
  items?: { data?: { current_period_end?: number }[] };
  current_period_end?: number;
}): Date | null {
  const seconds = sub.items?.data?.[0]?.current_period_end ?? sub.current_period_end;
  return typeof seconds === 'number' ? new Date(seconds * 1000) : null;
}

/** A Stripe Account (from the API or an account.updated event) as the payouts feature stores it. */
export function connectedAccountState(account: Record<string, any>): ConnectedAccountState {
  const due = account.requirements?.currently_due;
  return {
    accountId: String(account.id),
    chargesEnabled: account.charges_enabled === true,
    payoutsEnabled: account.payouts_enabled === true,
    detailsSubmitted: account.details_submitted === true,
    requirementsDue: Array.isArray(due) ? due.map(String) : [],
    disabledReason: typeof account.requirements?.disabled_reason === 'string' ? account.requirements.disabled_reason : null,
  };
}
