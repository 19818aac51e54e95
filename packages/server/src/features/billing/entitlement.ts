// The paywall's rules as pure functions: whether a subscription stands
// (active, or active past its period end within the grace window), and
// whether its plan unlocks a resource. The service reads rows; this decides.

import type { SubscriptionsTable } from '../../db/tables.js';

export type Standing = 'entitled' | 'renew' | 'none';

/** How long an active subscription keeps playing after its period end while the renewal is processed. */
export const DEFAULT_GRACE_MS = 3 * 24 * 3600_000;

export function standing(
  sub: Pick<SubscriptionsTable, 'status' | 'current_period_end'>,
  now: Date,
  graceMs: number = DEFAULT_GRACE_MS,
): Standing {
  switch (sub.status) {
    case 'active': {
      if (!sub.current_period_end) return 'entitled';
      return Date.parse(sub.current_period_end) + graceMs >= now.getTime() ? 'entitled' : 'renew';
    }
    case 'past_due':
    case 'unpaid':
    case 'expired':
      return 'renew';
    default:
      return 'none';
  }
}

export interface UnlockingPlan {
  unlocks_all: number;
  /** JSON array of resource ids. */
  unlocked_ids: string;
}

/** `all` opens the DJ's monetized resources; a named resource opens whether or not it is marked monetized. */
export function unlocks(plan: UnlockingPlan, resource: { id: string; monetized: boolean }): boolean {
  if (plan.unlocks_all === 1 && resource.monetized) return true;
  return (JSON.parse(plan.unlocked_ids) as string[]).includes(resource.id);
}
