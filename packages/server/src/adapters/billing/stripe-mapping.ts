// Stripe's objects read into ours: pure, and free of the stripe package so the billing service may use them.

import type { ProviderSubscription } from './types.js';

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
