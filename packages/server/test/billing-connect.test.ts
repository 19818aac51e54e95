// DJs get paid through Stripe Connect (Express), through the official
// package pointed at the loopback fake (test/fake-stripe.ts), which refuses
// any product, price, customer or subscription not sent to a connected
// account that can take charges, and any subscription without the
// platform's fee. Also: account.updated webhooks (once, never rolled back),
// the 409 with the onboarding link, and Stripe outages (500 and connection
// refused) leaving nothing half-created.

import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../src/adapters/billing/stripe.js';
import { DIALECTS, closedPort, createTestApp, signUp, type TestApp } from './harness.js';
import { startFakeStripe, type FakeStripe } from './fake-stripe.js';

type Json = Record<string, any>;
const SECRET_KEY = 'sk_test_fake_djcast_connect';
const WEBHOOK_SECRET = 'whsec_test_djcast_connect';
const FEE_PERCENT = 8;
const signer = new Stripe(SECRET_KEY);
const ENABLED = {
  charges_enabled: true,
  payouts_enabled: true,
  details_submitted: true,
  requirements: { currently_due: [], disabled_reason: null },
};

describe.each(DIALECTS)('payouts through Stripe Connect (%s)', (dialect) => {
  let t: TestApp;
  let fake: FakeStripe;

  beforeAll(async () => {
    fake = await startFakeStripe({ secretKey: SECRET_KEY, apiVersion: STRIPE_API_VERSION, applicationFeePercent: FEE_PERCENT });
    t = await createTestApp(dialect, {
      DJCAST_STRIPE_SECRET_KEY: SECRET_KEY,
      DJCAST_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DJCAST_STRIPE_API_BASE: fake.url,
      DJCAST_BILLING_APPLICATION_FEE_PERCENT: String(FEE_PERCENT),
    });
  });
  afterAll(async () => {
    expect(fake.violations).toEqual([]);
    await t?.close();
    await fake?.close();
  });

  const call = async (method: string, url: string, token?: string, body?: unknown) => {
    const res = await t.request(method, url, { token, body });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      body: (text.startsWith('{') ? JSON.parse(text) : text) as Json,
    };
  };
  const callsSince = (i: number) => fake.calls.slice(i);
  const gold = { name: 'Gold', price_cents: 499, currency: 'usd', billing_interval: 'month' };
  const rows = (table: 'plans' | 'subscriptions' | 'payout_accounts') =>
    t.container.db.kysely.selectFrom(table).selectAll().execute();
  const webhook = (event: Json) => {
    const payload = JSON.stringify({ object: 'event', api_version: STRIPE_API_VERSION, livemode: false, ...event });
    const header = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    return t.app.request('/v1/webhooks/stripe', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
  };
  const storedAccount = async (userId: string) =>
    t.container.db.kysely.selectFrom('payout_accounts').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();

  it('setup creates an Express account once, reuses it after, and answers a fresh onboarding link each time', async () => {
    const dj = await signUp(t);
    const from = fake.calls.length;
    const first = await call('POST', '/v1/payouts/setup', dj.token);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({
      provider: 'stripe',
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      can_sell_paid_plans: false,
      application_fee_percent: FEE_PERCENT,
    });
    expect(first.body.account_id).toMatch(/^acct_/);
    expect(first.body.requirements_due).toContain('external_account');
    expect(first.body.onboarding_url).toMatch(/^https:\/\/connect\.stripe\.test\/setup\/e\/acct_/);
    const calls = callsSince(from);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /v1/accounts', 'POST /v1/account_links']);
    expect(calls[0]!.params).toMatchObject({ type: 'express', email: dj.email, 'metadata[djcast_user_id]': dj.userId });
    expect(calls[0]!.account).toBeUndefined();
    expect(calls[1]!.params).toMatchObject({ account: first.body.account_id, type: 'account_onboarding' });
    expect(new URL(calls[1]!.params.return_url!).pathname).toBe('/payouts/return');
    expect(new URL(calls[1]!.params.refresh_url!).pathname).toBe('/payouts/refresh');

    const again = await call('POST', '/v1/payouts/setup', dj.token);
    expect(again.body.account_id).toBe(first.body.account_id);
    expect(again.body.onboarding_url).not.toBe(first.body.onboarding_url);
    expect(callsSince(from).filter((c) => c.path === '/v1/accounts')).toHaveLength(1);
    expect(await rows('payout_accounts')).toHaveLength(1);

    // Where Stripe sends the DJ back: plain pages saying what to run next.
    const back = await t.app.request(new URL(calls[1]!.params.return_url!).pathname);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('djcast payouts status');
    const expired = await t.app.request(new URL(calls[1]!.params.refresh_url!).pathname);
    expect(await expired.text()).toContain('djcast payouts setup');
  });

  it('status is read from Stripe: not enabled while onboarding is unfinished, enabled after', async () => {
    const dj = await signUp(t);
    expect((await call('GET', '/v1/payouts', dj.token)).body).toMatchObject({ account_id: null, can_sell_paid_plans: false });
    const { account_id } = (await call('POST', '/v1/payouts/setup', dj.token)).body;
    expect((await call('GET', '/v1/payouts', dj.token)).body).toMatchObject({ account_id, charges_enabled: false });
    fake.updateAccount(account_id, ENABLED);
    const status = await call('GET', '/v1/payouts', dj.token);
    expect(status.body).toMatchObject({
      account_id,
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      requirements_due: [],
      can_sell_paid_plans: true,
    });
    expect((await storedAccount(dj.userId)).charges_enabled).toBe(1);
  });

  it('a DJ without a connected account that can take charges gets 409 with the onboarding link, and no plan', async () => {
    const dj = await signUp(t);
    const none = await call('POST', '/v1/plans', dj.token, gold);
    expect(none.status).toBe(409);
    expect(none.type).toContain('application/problem+json');
    expect(none.body.code).toBe('payouts_required');
    expect(none.body.onboarding_url).toMatch(/^https:\/\/connect\.stripe\.test\/setup\/e\/acct_/);
    // Still onboarding: the same answer, for the same account.
    const pending = await call('POST', '/v1/plans', dj.token, gold);
    expect(pending.status).toBe(409);
    expect(pending.body.account_id).toBe(none.body.account_id);
    expect((await rows('plans')).filter((p) => p.owner_id === dj.userId)).toEqual([]);
    expect(fake.calls.filter((c) => c.path === '/v1/products' && c.account === none.body.account_id)).toEqual([]);

    // Onboarding finished: the plan is created on the connected account, no status call needed first.
    fake.updateAccount(none.body.account_id, ENABLED);
    const from = fake.calls.length;
    const created = await call('POST', '/v1/plans', dj.token, gold);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(
      callsSince(from)
        .filter((c) => c.method === 'POST')
        .map((c) => [c.path, c.account]),
    ).toEqual([
      ['/v1/products', none.body.account_id],
      ['/v1/prices', none.body.account_id],
    ]);
  });

  it('account.updated updates the DJ’s status once, and an older event never rolls it back', async () => {
    const dj = await signUp(t);
    const { account_id } = (await call('POST', '/v1/payouts/setup', dj.token)).body;
    const now = Math.floor(Date.now() / 1000) + 5;
    const event = (id: string, created: number, enabled: boolean) =>
      webhook({
        id,
        type: 'account.updated',
        created,
        account: account_id,
        data: {
          object: {
            id: account_id,
            object: 'account',
            charges_enabled: enabled,
            payouts_enabled: enabled,
            details_submitted: true,
            requirements: { currently_due: enabled ? [] : ['external_account'], disabled_reason: null },
          },
        },
      });
    const enabled = await event(`evt_acct_on_${dialect}`, now, true);
    expect(await enabled.json()).toEqual({ received: true, duplicate: false });
    expect(await storedAccount(dj.userId)).toMatchObject({ charges_enabled: 1, payouts_enabled: 1, requirements_due: '[]' });

    const replay = await event(`evt_acct_on_${dialect}`, now, true);
    expect(await replay.json()).toEqual({ received: true, duplicate: true });

    // Delivered late: an older "not enabled" state.
    const stale = await event(`evt_acct_old_${dialect}`, now - 120, false);
    expect(stale.status).toBe(200);
    expect(await storedAccount(dj.userId)).toMatchObject({ charges_enabled: 1, payouts_enabled: 1 });

    // A newer one applies (Stripe disabled charges).
    await event(`evt_acct_off_${dialect}`, now + 10, false);
    expect(await storedAccount(dj.userId)).toMatchObject({ charges_enabled: 0, requirements_due: '["external_account"]' });
  });

  describe('a Stripe outage', () => {
    let dj: Awaited<ReturnType<typeof signUp>>;
    let plan: Json;

    beforeAll(async () => {
      dj = await signUp(t);
      const { account_id } = (await call('POST', '/v1/payouts/setup', dj.token)).body;
      fake.updateAccount(account_id, ENABLED);
      plan = (await call('POST', '/v1/plans', dj.token, gold)).body;
      expect(plan.status).toBe('active');
    });

    const during = async <T>(fn: () => Promise<T>): Promise<T> => {
      fake.failing = true;
      try {
        return await fn();
      } finally {
        fake.failing = false;
      }
    };

    it('(500) on a new plan: 503 problem+json with Retry-After, no plan row', async () => {
      const before = await rows('plans');
      const res = await t.request('POST', '/v1/plans', { token: dj.token, body: { ...gold, name: 'Before the outage' } });
      expect(res.status).toBe(201); // Stripe is up: baseline
      const failed = await during(() =>
        t.request('POST', '/v1/plans', { token: dj.token, body: { ...gold, name: 'During outage' } }),
      );
      expect(failed.status).toBe(503);
      expect(failed.headers.get('content-type')).toContain('application/problem+json');
      expect(failed.headers.get('retry-after')).toBe('30');
      expect(((await failed.json()) as Json).code).toBe('unavailable');
      const after = await rows('plans');
      expect(after.length).toBe(before.length + 1);
      expect(after.filter((p) => p.name === 'During outage')).toEqual([]);
    });

    it('(500) on a subscription: 503, no subscription row, and a retry after it succeeds', async () => {
      const listener = await signUp(t, { role: 'listener' });
      const failed = await during(() =>
        call('POST', '/v1/subscriptions', listener.token, { plan_id: plan.id, payment_method_id: 'pm_card_visa' }),
      );
      expect(failed.status).toBe(503);
      expect(failed.body.code).toBe('unavailable');
      const mine = (await rows('subscriptions')).filter((s) => s.listener_id === listener.userId);
      expect(mine).toEqual([]);
      const ok = await call('POST', '/v1/subscriptions', listener.token, { plan_id: plan.id, payment_method_id: 'pm_card_visa' });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ status: 'active', provider: 'stripe' });
    });

    it('(500) on payouts setup: 503 and no account stored', async () => {
      const newcomer = await signUp(t);
      const failed = await during(() => call('POST', '/v1/payouts/setup', newcomer.token));
      expect(failed.status).toBe(503);
      expect((await rows('payout_accounts')).filter((a) => a.user_id === newcomer.userId)).toEqual([]);
    });

    it('(connection refused) on a plan and a subscription: 503, nothing half-created', async () => {
      // A second app whose Stripe is a closed port.
      const down = await createTestApp(dialect, {
        DJCAST_STRIPE_SECRET_KEY: SECRET_KEY,
        DJCAST_STRIPE_API_BASE: `http://127.0.0.1:${await closedPort()}`,
        DJCAST_BILLING_APPLICATION_FEE_PERCENT: String(FEE_PERCENT),
      });
      try {
        const dj2 = await signUp(down);
        // Onboarded earlier (as stored); Stripe cannot be reached now.
        await down.container.db.kysely
          .insertInto('payout_accounts')
          .values({
            user_id: dj2.userId,
            provider: 'stripe',
            account_id: 'acct_refused',
            charges_enabled: 1,
            payouts_enabled: 1,
            details_submitted: 1,
            requirements_due: '[]',
            disabled_reason: null,
            provider_updated_at: new Date().toISOString(),
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          })
          .execute();
        const planRes = await down.request('POST', '/v1/plans', { token: dj2.token, body: gold });
        expect(planRes.status).toBe(503);
        expect(((await planRes.json()) as Json).code).toBe('unavailable');
        expect(
          await down.container.db.kysely.selectFrom('plans').select('id').where('owner_id', '=', dj2.userId).execute(),
        ).toEqual([]);

        // A plan that exists (created while Stripe was up), subscribed to while it is down.
        await down.container.db.kysely
          .insertInto('plans')
          .values({
            id: 'pln_01jd0v9m3x7k2p8q4r5s6t7u8v',
            owner_id: dj2.userId,
            name: 'Up earlier',
            description: null,
            price_cents: 500,
            currency: 'usd',
            billing_interval: 'month',
            features: '[]',
            unlocks_all: 1,
            unlocked_ids: '[]',
            status: 'active',
            provider: 'stripe',
            provider_product_id: 'prod_earlier',
            provider_price_id: 'price_earlier',
            provider_account_id: 'acct_refused',
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          })
          .execute();
        const listener = await signUp(down, { role: 'listener' });
        const subRes = await down.request('POST', '/v1/subscriptions', {
          token: listener.token,
          body: { plan_id: 'pln_01jd0v9m3x7k2p8q4r5s6t7u8v', payment_method_id: 'pm_card_visa' },
        });
        expect(subRes.status).toBe(503);
        expect(subRes.headers.get('content-type')).toContain('application/problem+json');
        expect(
          await down.container.db.kysely
            .selectFrom('subscriptions')
            .select('id')
            .where('listener_id', '=', listener.userId)
            .execute(),
        ).toEqual([]);
        const setup = await down.request('POST', '/v1/payouts/setup', { token: (await signUp(down)).token });
        expect(setup.status).toBe(503);
      } finally {
        await down.close();
      }
    });
  });
});

describe('payouts in local test mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('needs no connected account: status says so, setup is a 409, paid plans are created', async () => {
    const dj = await signUp(t);
    const status = await t.request('GET', '/v1/payouts', { token: dj.token });
    expect(await status.json()).toMatchObject({ provider: 'local', account_id: null, can_sell_paid_plans: true });
    const setup = await t.request('POST', '/v1/payouts/setup', { token: dj.token });
    expect(setup.status).toBe(409);
    expect(((await setup.json()) as Json).detail).toContain('local test mode');
    const plan = await t.request('POST', '/v1/plans', {
      token: dj.token,
      body: { name: 'Gold', price_cents: 499, currency: 'usd', billing_interval: 'month' },
    });
    expect(plan.status).toBe(201);
    expect(await plan.json()).toMatchObject({ provider: 'local', status: 'active' });
  });

  it('a listener may not set up payouts (monetization:write)', async () => {
    const listener = await signUp(t, { role: 'listener' });
    expect((await t.request('GET', '/v1/payouts', { token: listener.token })).status).toBe(403);
    expect((await t.request('POST', '/v1/payouts/setup', { token: listener.token })).status).toBe(403);
  });
});
