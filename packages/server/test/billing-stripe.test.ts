// Billing on Stripe, through the official package pointed at a loopback fake
// that checks every call (test/fake-stripe.ts), and Stripe webhooks signed
// with the real scheme (the package's generateTestHeaderString): replay,
// reordering, forged and stale signatures. The DJ sells through a connected
// account (Stripe Connect), so every object goes on it with the platform's fee.

import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../src/adapters/billing/stripe.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { startFakeStripe, type FakeStripe } from './fake-stripe.js';

type Json = Record<string, any>;
const SECRET_KEY = 'sk_test_fake_djcast';
const WEBHOOK_SECRET = 'whsec_test_djcast';
const FEE_PERCENT = 12.5;
const signer = new Stripe(SECRET_KEY);

describe.each(DIALECTS)('billing on Stripe (%s)', (dialect) => {
  let t: TestApp;
  let fake: FakeStripe;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let account: string;

  beforeAll(async () => {
    fake = await startFakeStripe({ secretKey: SECRET_KEY, apiVersion: STRIPE_API_VERSION, applicationFeePercent: FEE_PERCENT });
    t = await createTestApp(dialect, {
      DJCAST_STRIPE_SECRET_KEY: SECRET_KEY,
      DJCAST_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DJCAST_STRIPE_API_BASE: fake.url,
      DJCAST_BILLING_APPLICATION_FEE_PERCENT: String(FEE_PERCENT),
    });
    dj = await signUp(t);
    // The DJ connects a Stripe account and finishes onboarding (Stripe now says charges are enabled).
    const setup = await t.request('POST', '/v1/payouts/setup', { token: dj.token });
    expect(setup.status).toBe(200);
    account = ((await setup.json()) as Json).account_id;
    fake.updateAccount(account, {
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      requirements: { currently_due: [], disabled_reason: null },
    });
    const status = await t.request('GET', '/v1/payouts', { token: dj.token });
    expect(await status.json()).toMatchObject({ account_id: account, charges_enabled: true, can_sell_paid_plans: true });
  });
  afterAll(async () => {
    expect(fake.violations).toEqual([]);
    await t.close();
    await fake.close();
  });

  const call = async (method: string, url: string, token?: string, body?: unknown, headers?: Record<string, string>) => {
    const res = await t.request(method, url, { token, body, headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
  };
  const callsSince = (i: number) => fake.calls.slice(i);
  const plan = async (price = 499) => {
    const res = await call('POST', '/v1/plans', dj.token, {
      name: 'Gold',
      price_cents: price,
      currency: 'usd',
      billing_interval: 'month',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const webhook = (event: Json, opts: { secret?: string; timestamp?: number } = {}) => {
    const payload = JSON.stringify({ object: 'event', api_version: STRIPE_API_VERSION, livemode: false, ...event });
    const header = signer.webhooks.generateTestHeaderString({
      payload,
      secret: opts.secret ?? WEBHOOK_SECRET,
      ...(opts.timestamp ? { timestamp: opts.timestamp } : {}),
    });
    return t.app.request('/v1/webhooks/stripe', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
  };

  it('/healthz says billing runs on stripe', async () => {
    expect((await call('GET', '/healthz')).body.backends.billing).toBe('stripe');
  });

  it('creates a Product and a Price (form params, idempotency keys, pinned version) and stores their ids', async () => {
    const from = fake.calls.length;
    const created = await plan();
    const calls = callsSince(from);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /v1/products', 'POST /v1/prices']);
    expect(calls[0]!.params).toMatchObject({ name: 'Gold', 'metadata[djcast_plan_id]': created.id });
    expect(calls[1]!.params).toMatchObject({ unit_amount: '499', currency: 'usd', 'recurring[interval]': 'month' });
    expect(calls[1]!.params.product).toMatch(/^prod_/);
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(2);
    expect(calls.every((c) => c.version === STRIPE_API_VERSION)).toBe(true);
    expect(calls.map((c) => c.account)).toEqual([account, account]);
    expect(created).toMatchObject({ provider: 'stripe', status: 'active' });
    expect(created.provider_product_id).toBe(calls[1]!.params.product);
    expect(created.provider_price_id).toMatch(/^price_/);
  });

  it('a price change creates a new Price and archives the old one', async () => {
    const created = await plan(300);
    const from = fake.calls.length;
    const res = await call('PATCH', `/v1/plans/${created.id}`, dj.token, { price_cents: 350 });
    expect(res.status).toBe(200);
    const calls = callsSince(from);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /v1/prices',
      `POST /v1/prices/${created.provider_price_id}`,
    ]);
    expect(calls[0]!.params).toMatchObject({ unit_amount: '350', product: created.provider_product_id });
    expect(calls[1]!.params).toEqual({ active: 'false' });
    expect(calls.map((c) => c.account)).toEqual([account, account]);
    expect(res.body.provider_price_id).not.toBe(created.provider_price_id);
  });

  it('a Stripe outage answers 503 and leaves no plan behind', async () => {
    fake.failing = true;
    try {
      const res = await call('POST', '/v1/plans', dj.token, {
        name: 'Outage',
        price_cents: 100,
        currency: 'usd',
        billing_interval: 'year',
      });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('unavailable');
    } finally {
      fake.failing = false;
    }
    const rows = await t.container.db.kysely.selectFrom('plans').select('id').where('name', '=', 'Outage').execute();
    expect(rows).toEqual([]);
  });

  it('with a payment method: a Customer and a Subscription with the plan’s price id, stored active', async () => {
    const p = await plan(600);
    const listener = await signUp(t, { role: 'listener' });
    const from = fake.calls.length;
    const res = await call('POST', '/v1/subscriptions', listener.token, { plan_id: p.id, payment_method_id: 'pm_card_visa' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const calls = callsSince(from);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /v1/customers', 'POST /v1/subscriptions']);
    expect(calls[0]!.params).toMatchObject({ email: listener.email, payment_method: 'pm_card_visa' });
    expect(calls[1]!.params).toMatchObject({
      'items[0][price]': p.provider_price_id,
      'metadata[djcast_subscription_id]': res.body.id,
    });
    expect(calls[1]!.idempotencyKey).toBe(res.body.id);
    // On the DJ's connected account, with the platform's cut.
    expect(calls.map((c) => c.account)).toEqual([account, account]);
    expect(calls[1]!.params.application_fee_percent).toBe(String(FEE_PERCENT));
    expect(res.body).toMatchObject({ status: 'active', entitled: true, provider: 'stripe', checkout_url: null });
  });

  it('a declined card: 402 with the reason, no retry hint, and no subscription left behind', async () => {
    const p = await plan(610);
    const listener = await signUp(t, { role: 'listener' });
    const from = fake.calls.length;
    const res = await call('POST', '/v1/subscriptions', listener.token, {
      plan_id: p.id,
      payment_method_id: 'pm_card_visa_chargeDeclined',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    expect(res.body).toMatchObject({ code: 'payment_declined', decline_code: 'generic_decline', status: 402 });
    expect(res.body.detail).toContain('Your card was declined.');
    expect(res.headers.get('retry-after')).toBeNull();
    // Stripe was asked once (the customer, with the card) and no subscription was attempted or kept.
    expect(callsSince(from).map((c) => `${c.method} ${c.path}`)).toEqual(['POST /v1/customers']);
    const rows = await t.container.db.kysely.selectFrom('subscriptions').select('id').where('plan_id', '=', p.id).execute();
    expect(rows).toEqual([]);
    // The same listener with a good card subscribes.
    const ok = await call('POST', '/v1/subscriptions', listener.token, { plan_id: p.id, payment_method_id: 'pm_card_visa' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('cancel and the billing portal go to the subscription’s connected account', async () => {
    const p = await plan(650);
    const listener = await signUp(t, { role: 'listener' });
    const sub = (await call('POST', '/v1/subscriptions', listener.token, { plan_id: p.id, payment_method_id: 'pm_card_visa' }))
      .body;
    const from = fake.calls.length;
    const portal = await call('POST', `/v1/subscriptions/${sub.id}/portal`, listener.token);
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    const canceled = await call('POST', `/v1/subscriptions/${sub.id}/cancel`, listener.token, { at_period_end: true });
    expect(canceled.status).toBe(200);
    expect(canceled.body.cancel_at_period_end).toBe(true);
    const calls = callsSince(from);
    expect(calls.map((c) => `${c.method} ${c.path.replace(/sub_\w+/, 'sub_…')}`)).toEqual([
      'POST /v1/billing_portal/sessions',
      'POST /v1/subscriptions/sub_…',
    ]);
    expect(calls.map((c) => c.account)).toEqual([account, account]);
    expect(calls[1]!.params).toEqual({ cancel_at_period_end: 'true' });
  });

  it('without one: a Checkout URL, pending until checkout.session.completed arrives', async () => {
    const p = await plan(700);
    const listener = await signUp(t, { role: 'listener' });
    const from = fake.calls.length;
    const res = await call('POST', '/v1/subscriptions', listener.token, { plan_id: p.id });
    expect(res.body).toMatchObject({ status: 'pending', entitled: false });
    const [session] = callsSince(from);
    expect(session).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions', account });
    expect(session!.params['subscription_data[application_fee_percent]']).toBe(String(FEE_PERCENT));
    expect(res.body.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_/);
    const done = await webhook({
      id: 'evt_checkout_1',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          object: 'checkout.session',
          client_reference_id: res.body.id,
          subscription: 'sub_from_checkout',
          customer: 'cus_x',
          payment_status: 'paid',
        },
      },
    });
    expect(done.status).toBe(200);
    expect((await call('GET', `/v1/subscriptions/${res.body.id}`, listener.token)).body).toMatchObject({
      status: 'active',
      checkout_url: null,
    });
  });

  describe('webhooks', () => {
    let sub: Json;
    let listener: Awaited<ReturnType<typeof signUp>>;
    const status = async () => (await call('GET', `/v1/subscriptions/${sub.id}`, listener.token)).body.status;
    const stripeSubId = async () =>
      (
        await t.container.db.kysely
          .selectFrom('subscriptions')
          .select('provider_subscription_id')
          .where('id', '=', sub.id)
          .executeTakeFirstOrThrow()
      ).provider_subscription_id!;
    const invoice = async (id: string, type: string, created: number) =>
      webhook({
        id,
        type,
        created,
        data: {
          object: {
            object: 'invoice',
            parent: { type: 'subscription_details', subscription_details: { subscription: await stripeSubId() } },
            lines: { data: [{ period: { end: created + 30 * 86400 } }] },
          },
        },
      });
    const paymentMails = () =>
      t.logs.filter((l) => l.event === 'mail.outbox' && l.to === listener.email && l.mail_kind === 'subscription.payment_failed');

    beforeAll(async () => {
      const p = await plan(800);
      listener = await signUp(t, { role: 'listener' });
      sub = (await call('POST', '/v1/subscriptions', listener.token, { plan_id: p.id, payment_method_id: 'pm_card_visa' })).body;
    });

    it('a forged signature or a stale timestamp: 400, nothing changed', async () => {
      const now = Math.floor(Date.now() / 1000);
      const forged = await webhook(
        { id: 'evt_forged', type: 'invoice.payment_failed', created: now, data: { object: {} } },
        { secret: 'whsec_wrong' },
      );
      expect(forged.status).toBe(400);
      const stale = await webhook({ id: 'evt_stale', type: 'invoice.payment_failed', created: now }, { timestamp: now - 600 });
      expect(stale.status).toBe(400);
      const unsigned = await t.app.request('/v1/webhooks/stripe', {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(unsigned.status).toBe(400);
      expect(await status()).toBe('active');
      const seen = await t.container.db.kysely
        .selectFrom('billing_events')
        .select('id')
        .where('id', 'in', ['evt_forged', 'evt_stale'])
        .execute();
      expect(seen).toEqual([]);
    });

    it('invoice.payment_failed -> past_due and one email; a replay is a no-op', async () => {
      const now = Math.floor(Date.now() / 1000);
      const first = await invoice('evt_failed_1', 'invoice.payment_failed', now);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ received: true, duplicate: false });
      expect(await status()).toBe('past_due');
      expect(paymentMails()).toHaveLength(1);
      const replay = await invoice('evt_failed_1', 'invoice.payment_failed', now);
      expect(await replay.json()).toEqual({ received: true, duplicate: true });
      expect(paymentMails()).toHaveLength(1);
    });

    it('an older invoice.paid arriving after the failure does not roll it back; a newer one makes it active', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect((await invoice('evt_paid_old', 'invoice.paid', now - 120)).status).toBe(200);
      expect(await status()).toBe('past_due');
      expect((await invoice('evt_paid_new', 'invoice.paid', now + 1)).status).toBe(200);
      expect(await status()).toBe('active');
      // And a failure older than that payment, delivered late, leaves it active.
      expect((await invoice('evt_failed_old', 'invoice.payment_failed', now - 60)).status).toBe(200);
      expect(await status()).toBe('active');
    });

    it('customer.subscription.updated and .deleted are synced', async () => {
      const now = Math.floor(Date.now() / 1000);
      const id = await stripeSubId();
      await webhook({
        id: 'evt_sub_updated',
        type: 'customer.subscription.updated',
        created: now + 2,
        data: {
          object: {
            id,
            object: 'subscription',
            status: 'active',
            cancel_at_period_end: true,
            items: { data: [{ current_period_end: now + 86400 }] },
          },
        },
      });
      expect((await call('GET', `/v1/subscriptions/${sub.id}`, listener.token)).body).toMatchObject({
        status: 'active',
        cancel_at_period_end: true,
      });
      await webhook({
        id: 'evt_sub_deleted',
        type: 'customer.subscription.deleted',
        created: now + 3,
        data: { object: { id, object: 'subscription', status: 'canceled' } },
      });
      expect(await status()).toBe('canceled');
    });
  });
});
