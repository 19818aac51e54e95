import type { components, operations } from '../generated/openapi.js';
import { paginate } from '../pagination.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type Plan = Schemas['Plan'];
export type PlanList = Schemas['PlanList'];
export type PublicPlanList = Schemas['PublicPlanList'];
export type CreatePlanRequest = Schemas['CreatePlanRequest'];
export type UpdatePlanRequest = Schemas['UpdatePlanRequest'];
export type Subscription = Schemas['Subscription'];
export type SubscriptionList = Schemas['SubscriptionList'];
export type BillingPortalLink = Schemas['BillingPortalLink'];
export type PayoutAccount = Schemas['PayoutAccount'];
export type PayoutSetup = Schemas['PayoutSetup'];
export type LocalSubscriptionState = Schemas['LocalSubscriptionStateRequest']['status'];
export type ListPlansQuery = NonNullable<operations['listPlans']['parameters']['query']>;
export type ListSubscriptionsQuery = NonNullable<operations['listSubscriptions']['parameters']['query']>;

export function plansApi({ raw, anon }: ApiContext) {
  const path = (id: string) => ({ params: { path: { id } } });
  const list = (query: ListPlansQuery = {}): Promise<PlanList> => unwrap(raw.GET('/v1/plans', { params: { query } }));
  return {
    create: (body: CreatePlanRequest): Promise<Plan> => unwrap(raw.POST('/v1/plans', { body })),
    list,
    iterate: (query: Omit<ListPlansQuery, 'starting_after'> = {}): AsyncGenerator<Plan> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    get: (id: string): Promise<Plan> => unwrap(raw.GET('/v1/plans/{id}', path(id))),
    update: (id: string, body: UpdatePlanRequest): Promise<Plan> => unwrap(raw.PATCH('/v1/plans/{id}', { ...path(id), body })),
    /** Archives the plan: no new subscriptions; existing ones run on. */
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/plans/{id}', path(id))),
    /** A DJ's plans on sale (no sign-in needed). */
    ofDj: (userId: string): Promise<PublicPlanList> =>
      unwrap(anon.GET('/v1/djs/{user_id}/plans', { params: { path: { user_id: userId } } })),
  };
}

export function subscriptionsApi({ raw }: ApiContext) {
  const path = (id: string) => ({ params: { path: { id } } });
  const list = (query: ListSubscriptionsQuery = {}): Promise<SubscriptionList> =>
    unwrap(raw.GET('/v1/subscriptions', { params: { query } }));
  return {
    create: (body: { plan_id: string; payment_method_id?: string }): Promise<Subscription> =>
      unwrap(raw.POST('/v1/subscriptions', { body })),
    list,
    iterate: (query: Omit<ListSubscriptionsQuery, 'starting_after'> = {}): AsyncGenerator<Subscription> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    get: (id: string): Promise<Subscription> => unwrap(raw.GET('/v1/subscriptions/{id}', path(id))),
    /** At the end of the paid period (default), or now. */
    cancel: (id: string, atPeriodEnd = true): Promise<Subscription> =>
      unwrap(raw.POST('/v1/subscriptions/{id}/cancel', { ...path(id), body: { at_period_end: atPeriodEnd } })),
    portal: (id: string): Promise<BillingPortalLink> => unwrap(raw.POST('/v1/subscriptions/{id}/portal', path(id))),
    /** Local test mode only: what Stripe's webhooks do in production. */
    setLocalState: (id: string, status: LocalSubscriptionState): Promise<Subscription> =>
      unwrap(raw.POST('/v1/subscriptions/{id}/local-state', { ...path(id), body: { status } })),
  };
}

/** Your payout account (Stripe Connect): where listeners' payments for your plans go. */
export function payoutsApi({ raw }: ApiContext) {
  return {
    /** Creates (or reuses) your connected account; answers a fresh, single-use onboarding link. */
    setup: (): Promise<PayoutSetup> => unwrap(raw.POST('/v1/payouts/setup')),
    /** Whether charges and payouts are enabled, and what Stripe still needs. */
    status: (): Promise<PayoutAccount> => unwrap(raw.GET('/v1/payouts')),
  };
}
