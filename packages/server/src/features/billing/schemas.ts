import { z } from '@hono/zod-openapi';
import { listSchema, PaginationQuery } from '../../core/pagination.js';

const idOf = (prefix: string, what: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be ${what} id (${prefix}_…)`);

/** What a plan can unlock: a stream, playlist, podcast or upload of its DJ. */
const UnlockableId = z
  .string()
  .regex(/^(str|pls|pod|upl)_[0-9a-z]{26}$/, 'must be a stream, playlist, podcast or upload id')
  .openapi({ example: 'str_01jd0v9m3x7k2p8q4r5s6t7u8v' });

const Unlocks = z.union([z.literal('all'), z.array(UnlockableId).min(1).max(100)]).openapi({
  description:
    '`all`: every monetized stream, playlist and podcast of the DJ; or a list of the resources it unlocks ' +
    '(named resources open to subscribers even when not marked monetized).',
  example: 'all',
});

const Feature = z
  .string()
  .regex(/^[a-z0-9][a-z0-9:_-]{0,49}$/, 'must be lower-case letters, digits, -, _ or : (e.g. ad-free)')
  .openapi({ example: 'ad-free' });

const Currency = z
  .string()
  .regex(/^[a-zA-Z]{3}$/, 'must be a three-letter ISO currency code such as usd')
  .transform((c) => c.toLowerCase())
  .openapi({ example: 'usd' });

const Interval = z.enum(['month', 'year']);
const Provider = z.enum(['local', 'stripe']).openapi({ description: '`local`: test mode, no money moves.' });

export const PlanSchema = z
  .object({
    id: z.string().openapi({ example: 'pln_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    owner_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    price_cents: z.number().int(),
    currency: z.string(),
    billing_interval: Interval,
    features: z.array(z.string()),
    unlocks: z.union([z.literal('all'), z.array(z.string())]),
    status: z.enum(['pending', 'active', 'archived']).openapi({
      description: '`archived`: no new subscriptions (existing ones run on at their price).',
    }),
    provider: Provider,
    provider_product_id: z.string().nullable(),
    provider_price_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Plan');

export const PlanListSchema = listSchema(PlanSchema, 'PlanList');

export const CreatePlanBody = z
  .object({
    name: z.string().trim().min(1).max(100).openapi({ example: 'Gold' }),
    description: z.string().trim().max(1000).optional(),
    price_cents: z.number().int().min(0).max(100_000_00).openapi({ example: 499 }),
    currency: Currency,
    billing_interval: Interval,
    features: z.array(Feature).max(20).default([]),
    unlocks: Unlocks.default('all'),
  })
  .strict()
  .openapi('CreatePlanRequest');

export const UpdatePlanBody = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().trim().max(1000).nullable().optional(),
    price_cents: z
      .number()
      .int()
      .min(0)
      .max(100_000_00)
      .optional()
      .openapi({ description: 'A new price for new subscribers; existing subscribers keep theirs.' }),
    features: z.array(Feature).max(20).optional(),
    unlocks: Unlocks.optional(),
  })
  .strict()
  .openapi('UpdatePlanRequest');

export const PlanIdParam = z.object({
  id: idOf('pln', 'a plan').openapi({ param: { name: 'id', in: 'path' }, example: 'pln_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const PlanListQuery = PaginationQuery.extend({
  feature: Feature.optional().openapi({
    param: { name: 'feature', in: 'query' },
    description: 'Only plans that include this feature.',
  }),
});

export const DjPlansParam = z.object({
  user_id: idOf('usr', 'a user').openapi({ param: { name: 'user_id', in: 'path' }, example: 'usr_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const PublicPlanSchema = PlanSchema.pick({
  id: true,
  owner_id: true,
  name: true,
  description: true,
  price_cents: true,
  currency: true,
  billing_interval: true,
  features: true,
  unlocks: true,
  provider: true,
})
  .extend({ subscribe_url: z.string().openapi({ description: 'POST here with {"plan_id"} (signed in) to subscribe.' }) })
  .openapi('PublicPlan');

export const PublicPlanListSchema = z.object({ data: z.array(PublicPlanSchema) }).openapi('PublicPlanList');

export const SubscriptionStatus = z.enum(['pending', 'incomplete', 'active', 'past_due', 'unpaid', 'expired', 'canceled']);

export const SubscriptionSchema = z
  .object({
    id: z.string().openapi({ example: 'sub_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    plan_id: z.string(),
    listener_id: z.string(),
    dj_id: z.string(),
    status: SubscriptionStatus.openapi({
      description:
        '`active` plays; `past_due` (a payment failed), `unpaid`, `expired` and `canceled` do not; ' +
        '`pending`/`incomplete` wait for checkout.',
    }),
    entitled: z.boolean().openapi({ description: 'Whether the subscription opens the paywall now.' }),
    price_cents: z.number().int().openapi({ description: 'The price subscribed at.' }),
    currency: z.string(),
    billing_interval: Interval,
    cancel_at_period_end: z.boolean(),
    current_period_end: z.string().nullable(),
    canceled_at: z.string().nullable(),
    checkout_url: z
      .string()
      .nullable()
      .openapi({ description: 'When no payment method was given: the page where the listener pays.' }),
    provider: Provider,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Subscription');

export const SubscriptionListSchema = listSchema(SubscriptionSchema, 'SubscriptionList');

export const CreateSubscriptionBody = z
  .object({
    plan_id: idOf('pln', 'a plan'),
    payment_method_id: z
      .string()
      .regex(/^pm_[A-Za-z0-9_]{1,200}$/, 'must be a payment method id (pm_…)')
      .optional()
      .openapi({ description: 'Charge this card now; without it the answer carries a checkout_url.' }),
  })
  .strict()
  .openapi('CreateSubscriptionRequest');

export const SubscriptionIdParam = z.object({
  id: idOf('sub', 'a subscription').openapi({ param: { name: 'id', in: 'path' }, example: 'sub_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const SubscriptionListQuery = PaginationQuery.extend({
  role: z
    .enum(['listener', 'dj'])
    .default('listener')
    .openapi({
      param: { name: 'role', in: 'query' },
      description: '`listener`: your subscriptions; `dj`: the subscriptions to your plans.',
    }),
});

export const CancelSubscriptionBody = z
  .object({
    at_period_end: z
      .boolean()
      .default(true)
      .openapi({ description: 'true: plays until the paid period ends; false: ends now (playback stops at once).' }),
  })
  .strict()
  .openapi('CancelSubscriptionRequest');

export const PortalLinkSchema = z.object({ url: z.string(), provider: Provider }).openapi('BillingPortalLink');

export const LocalStateBody = z
  .object({
    status: z.enum(['active', 'past_due', 'unpaid', 'expired', 'canceled']),
  })
  .strict()
  .openapi('LocalSubscriptionStateRequest');

export const PayoutAccountSchema = z
  .object({
    provider: Provider,
    account_id: z.string().nullable().openapi({ description: 'Your Stripe connected account (acct_…); null before setup.' }),
    charges_enabled: z.boolean().openapi({ description: 'Whether listeners can be charged on your account.' }),
    payouts_enabled: z.boolean().openapi({ description: 'Whether Stripe pays out to your bank account.' }),
    details_submitted: z.boolean().openapi({ description: 'Whether onboarding was completed.' }),
    requirements_due: z.array(z.string()).openapi({ description: 'What Stripe still needs from you (currently due).' }),
    disabled_reason: z.string().nullable(),
    can_sell_paid_plans: z.boolean().openapi({
      description: 'Whether you can create paid plans: charges enabled, or local test mode (no account needed).',
    }),
    application_fee_percent: z.number().nullable().openapi({ description: "The platform's cut of each payment." }),
    updated_at: z.string().nullable(),
  })
  .openapi('PayoutAccount');

export const PayoutSetupSchema = PayoutAccountSchema.extend({
  onboarding_url: z.string().openapi({
    description: 'Stripe-hosted onboarding for your connected account; single-use and short-lived: ask again when it expired.',
  }),
}).openapi('PayoutSetup');

export type PayoutAccountView = z.infer<typeof PayoutAccountSchema>;
export type PayoutSetupView = z.infer<typeof PayoutSetupSchema>;
export type PlanView = z.infer<typeof PlanSchema>;
export type PublicPlanView = z.infer<typeof PublicPlanSchema>;
export type SubscriptionView = z.infer<typeof SubscriptionSchema>;
export type CreatePlanRequest = z.infer<typeof CreatePlanBody>;
export type UpdatePlanRequest = z.infer<typeof UpdatePlanBody>;
export type CreateSubscriptionRequest = z.infer<typeof CreateSubscriptionBody>;
