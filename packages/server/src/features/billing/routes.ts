import { z } from '@hono/zod-openapi';
import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { extraErrors, json, publicRoute, securedRoute } from '../../http/openapi.js';
import {
  CancelSubscriptionBody,
  CreatePlanBody,
  CreateSubscriptionBody,
  DjPlansParam,
  LocalStateBody,
  PlanIdParam,
  PlanListQuery,
  PlanListSchema,
  PlanSchema,
  PortalLinkSchema,
  PublicPlanListSchema,
  SubscriptionIdParam,
  SubscriptionListQuery,
  SubscriptionListSchema,
  SubscriptionSchema,
  UpdatePlanBody,
} from './schemas.js';
import type { BillingService } from './service.js';

const planTags = ['plans'];
const subTags = ['subscriptions'];

const createPlan = securedRoute('monetization:write', {
  method: 'post',
  path: '/v1/plans',
  operationId: 'createPlan',
  tags: planTags,
  summary: 'Create a subscription plan: price, interval, features, and what it unlocks',
  description:
    'With Stripe configured, creates a Product and Price (on your connected account) and stores their ids; ' +
    'in local test mode nothing is sent and the plan says `provider: "local"`. A provider outage answers 503 and creates nothing.',
  request: { body: { content: json(CreatePlanBody), required: true } },
  responses: { 201: { description: 'Created', content: json(PlanSchema) }, ...extraErrors(409, 503) },
});

const listPlans = securedRoute('monetization:write', {
  method: 'get',
  path: '/v1/plans',
  operationId: 'listPlans',
  tags: planTags,
  summary: 'Your plans, newest first; `?feature=ad-free` keeps the plans with that feature',
  request: { query: PlanListQuery },
  responses: { 200: { description: 'Plans', content: json(PlanListSchema) } },
});

const getPlan = securedRoute('monetization:write', {
  method: 'get',
  path: '/v1/plans/{id}',
  operationId: 'getPlan',
  tags: planTags,
  summary: 'One of your plans',
  request: { params: PlanIdParam },
  responses: { 200: { description: 'The plan', content: json(PlanSchema) } },
});

const updatePlan = securedRoute('monetization:write', {
  method: 'patch',
  path: '/v1/plans/{id}',
  operationId: 'updatePlan',
  tags: planTags,
  summary: 'Rename, change features or unlocks, or change the price (a new Price; subscribers keep theirs)',
  request: { params: PlanIdParam, body: { content: json(UpdatePlanBody), required: true } },
  responses: { 200: { description: 'Updated', content: json(PlanSchema) }, ...extraErrors(409, 503) },
});

const deletePlan = securedRoute('monetization:write', {
  method: 'delete',
  path: '/v1/plans/{id}',
  operationId: 'deletePlan',
  tags: planTags,
  summary: 'Archive a plan: no new subscriptions; existing ones run on',
  request: { params: PlanIdParam },
  responses: { 204: { description: 'Archived' }, ...extraErrors(503) },
});

const djPlans = publicRoute({
  method: 'get',
  path: '/v1/djs/{user_id}/plans',
  operationId: 'listDjPlans',
  tags: planTags,
  summary: "A DJ's plans on sale, for listeners (no sign-in)",
  request: { params: DjPlansParam },
  responses: { 200: { description: 'Plans on sale', content: json(PublicPlanListSchema) } },
});

const createSubscription = securedRoute('subscriptions:write', {
  method: 'post',
  path: '/v1/subscriptions',
  operationId: 'createSubscription',
  tags: subTags,
  summary: "Subscribe to a DJ's plan",
  description:
    'With `payment_method_id`, the card is charged and the subscription is `active` when the provider says so; ' +
    'without one, the answer carries a `checkout_url` and the subscription turns active when the payment webhook arrives. ' +
    'In local test mode it is active at once and no money moves.',
  request: { body: { content: json(CreateSubscriptionBody), required: true } },
  responses: { 201: { description: 'Created', content: json(SubscriptionSchema) }, ...extraErrors(402, 409, 503) },
});

const listSubscriptions = securedRoute('subscriptions:read', {
  method: 'get',
  path: '/v1/subscriptions',
  operationId: 'listSubscriptions',
  tags: subTags,
  summary: 'Your subscriptions (or, with role=dj, the subscriptions to your plans), newest first',
  request: { query: SubscriptionListQuery },
  responses: { 200: { description: 'Subscriptions', content: json(SubscriptionListSchema) } },
});

const getSubscription = securedRoute('subscriptions:read', {
  method: 'get',
  path: '/v1/subscriptions/{id}',
  operationId: 'getSubscription',
  tags: subTags,
  summary: 'One subscription (its subscriber and the plan’s DJ may read it)',
  request: { params: SubscriptionIdParam },
  responses: { 200: { description: 'The subscription', content: json(SubscriptionSchema) } },
});

const cancelSubscription = securedRoute('subscriptions:write', {
  method: 'post',
  path: '/v1/subscriptions/{id}/cancel',
  operationId: 'cancelSubscription',
  tags: subTags,
  summary: 'Cancel at the end of the paid period (default), or now: playback stops at once',
  request: { params: SubscriptionIdParam, body: { content: json(CancelSubscriptionBody), required: true } },
  responses: { 200: { description: 'The subscription', content: json(SubscriptionSchema) }, ...extraErrors(503) },
});

const portalLink = securedRoute(
  'subscriptions:write',
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/portal',
    operationId: 'createBillingPortalLink',
    tags: subTags,
    summary: 'A billing-portal link where the subscriber changes their card, renews, and sees invoices',
    request: { params: SubscriptionIdParam },
    responses: { 200: { description: 'The link', content: json(PortalLinkSchema) }, ...extraErrors(503) },
  },
  // Each link is a fresh, short-lived session at the provider: a retry gets a new one.
  { idempotent: false },
);

const setLocalState = securedRoute('subscriptions:write', {
  method: 'post',
  path: '/v1/subscriptions/{id}/local-state',
  operationId: 'setLocalSubscriptionState',
  tags: subTags,
  summary: 'Local test mode only: move a subscription to active, past_due, unpaid, expired or canceled',
  description: 'What the provider’s webhooks do in production. 409 for a Stripe subscription.',
  request: { params: SubscriptionIdParam, body: { content: json(LocalStateBody), required: true } },
  responses: { 200: { description: 'The subscription', content: json(SubscriptionSchema) }, ...extraErrors(409) },
});

const stripeWebhook = publicRoute({
  method: 'post',
  path: '/v1/webhooks/stripe',
  operationId: 'receiveStripeWebhook',
  tags: subTags,
  summary: 'Stripe events (signed with the endpoint secret): payments, subscription changes, checkout completions',
  description:
    'The raw body is verified against the `Stripe-Signature` header within a 5-minute tolerance (400 otherwise, nothing changed). ' +
    'Each event id is processed once; an event older than the state already held never rolls it back.',
  responses: {
    200: {
      description: 'Received (duplicate: a replay of an event already processed)',
      content: json(z.object({ received: z.literal(true), duplicate: z.boolean() }).openapi('StripeWebhookReceipt')),
    },
  },
});

export function registerBillingRoutes(app: App, billing: BillingService): void {
  app.openapi(createPlan, async (c) => c.json(await billing.createPlan(principalOf(c), c.req.valid('json')), 201));
  app.openapi(listPlans, async (c) => c.json(await billing.listPlans(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getPlan, async (c) => c.json(await billing.getPlan(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(updatePlan, async (c) =>
    c.json(await billing.updatePlan(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deletePlan, async (c) => {
    await billing.deletePlan(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(djPlans, async (c) => c.json(await billing.publicPlans(c.req.valid('param').user_id), 200));

  app.openapi(createSubscription, async (c) =>
    c.json(await billing.createSubscription(principalOf(c), c.req.valid('json')), 201),
  );
  app.openapi(listSubscriptions, async (c) => c.json(await billing.listSubscriptions(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getSubscription, async (c) => c.json(await billing.getSubscription(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(cancelSubscription, async (c) =>
    c.json(await billing.cancelSubscription(principalOf(c), c.req.valid('param').id, c.req.valid('json').at_period_end), 200),
  );
  app.openapi(portalLink, async (c) => c.json(await billing.portalLink(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(stripeWebhook, async (c) =>
    c.json(await billing.handleWebhook(await c.req.text(), c.req.header('stripe-signature')), 200),
  );
  app.openapi(setLocalState, async (c) =>
    c.json(await billing.setLocalState(principalOf(c), c.req.valid('param').id, c.req.valid('json').status), 200),
  );
}
