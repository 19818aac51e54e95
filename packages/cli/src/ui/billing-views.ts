// Which fields of plans and subscriptions the human output shows.
import type { PayoutAccount, Plan, Subscription } from '@djcast/sdk';
import type { Column, Field } from './format.js';

const price = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;

export const PLAN_COLUMNS: Column<Plan>[] = [
  { header: 'id', get: (p) => p.id },
  { header: 'name', get: (p) => p.name },
  { header: 'price', get: (p) => `${price(p.price_cents, p.currency)}/${p.billing_interval}` },
  { header: 'features', get: (p) => p.features.join(',') },
  { header: 'status', get: (p) => p.status },
  { header: 'provider', get: (p) => p.provider },
];

export const PLAN_FIELDS: Field<Plan>[] = [
  ...PLAN_COLUMNS,
  { header: 'unlocks', get: (p) => (p.unlocks === 'all' ? 'all' : p.unlocks.join(', ')) },
  { header: 'stripe price', get: (p) => p.provider_price_id },
];

export const SUBSCRIPTION_COLUMNS: Column<Subscription>[] = [
  { header: 'id', get: (s) => s.id },
  { header: 'plan', get: (s) => s.plan_id },
  { header: 'status', get: (s) => s.status },
  { header: 'plays', get: (s) => (s.entitled ? 'yes' : 'no') },
  { header: 'renews', get: (s) => (s.cancel_at_period_end ? `ends ${s.current_period_end}` : s.current_period_end) },
  { header: 'provider', get: (s) => s.provider },
];

export const SUBSCRIPTION_FIELDS: Field<Subscription>[] = [
  ...SUBSCRIPTION_COLUMNS,
  { header: 'price', get: (s) => `${price(s.price_cents, s.currency)}/${s.billing_interval}` },
  { header: 'checkout', get: (s) => s.checkout_url },
];

const yesNo = (v: boolean) => (v ? 'yes' : 'no');

export const PAYOUT_FIELDS: Field<PayoutAccount>[] = [
  { header: 'provider', get: (a) => a.provider },
  { header: 'account', get: (a) => a.account_id },
  { header: 'charges', get: (a) => yesNo(a.charges_enabled) },
  { header: 'payouts', get: (a) => yesNo(a.payouts_enabled) },
  { header: 'details submitted', get: (a) => yesNo(a.details_submitted) },
  { header: 'requirements due', get: (a) => (a.requirements_due.length ? a.requirements_due.join(', ') : 'none') },
  { header: 'platform fee', get: (a) => (a.application_fee_percent === null ? null : `${a.application_fee_percent}%`) },
];
