// `djcast plan create`, `djcast subscription create|state` and `djcast payouts
// setup|status` with the built CLI against the real server on loopback: in
// local test mode (no money moves, no payout account needed), and on Stripe
// through the loopback fake (test/fake-stripe.ts) for Connect onboarding and
// the 409 that sends a DJ without a payout account to it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../src/adapters/billing/stripe.js';
import { startFakeStripe, type FakeStripe } from './fake-stripe.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { listen } from './uploads-support.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}
interface CliSandbox {
  run(args: string[], options?: { env?: Record<string, string | undefined> }): Promise<CliResult>;
}
// The CLI's own test support, loaded by URL: it lives outside this package's TypeScript root.
const support = (relative: string) => import(new URL(relative, import.meta.url).href);
const { cliSandbox, removeSandboxes } = (await support('../../cli/test/support/run-cli.ts')) as {
  cliSandbox(apiUrl: string): CliSandbox;
  removeSandboxes(): void;
};
const { ensureBuilt } = (await support('../../sdk/test/support/build.ts')) as { ensureBuilt(target: 'cli'): Promise<void> };

function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

afterAll(() => removeSandboxes());

describe.each(DIALECTS)('djcast plan, subscription and payouts in local test mode (%s)', { timeout: 180_000 }, (dialect) => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let cli: CliSandbox;
  let dj: { DJCAST_TOKEN: string };
  let listener: { DJCAST_TOKEN: string };

  beforeAll(async () => {
    await ensureBuilt('cli');
    t = await createTestApp(dialect);
    server = await listen(t);
    cli = cliSandbox(server.url);
    dj = { DJCAST_TOKEN: (await signUp(t)).token };
    listener = { DJCAST_TOKEN: (await signUp(t, { role: 'listener' })).token };
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('plan create: the issue’s example, as JSON and as text', async () => {
    const args = [
      'plan',
      'create',
      '--name',
      'Gold',
      '--price',
      '4.99',
      '--currency',
      'usd',
      '--interval',
      'month',
      '--feature',
      'ad-free',
    ];
    const created = await cli.run([...args, '--json'], { env: dj });
    expect(created.code, created.stderr).toBe(0);
    const plan = json(created);
    expect(plan).toMatchObject({
      name: 'Gold',
      price_cents: 499,
      currency: 'usd',
      billing_interval: 'month',
      features: ['ad-free'],
      unlocks: 'all',
      status: 'active',
      provider: 'local',
    });
    // It is stored: the API lists it.
    const listed = (await (await t.request('GET', '/v1/plans', { token: dj.DJCAST_TOKEN })).json()) as { data: { id: string }[] };
    expect(listed.data.map((p) => p.id)).toContain(plan.id);

    const text = await cli.run([...args.slice(0, 3), 'Silver', ...args.slice(4)], { env: dj });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/price:\s+4\.99 USD\/month/);
    expect(text.stderr).toContain('Local test mode');

    const bad = await cli.run(['plan', 'create', '--name', 'X', '--price', 'lots', '--json'], { env: dj });
    expect(bad.code).not.toBe(0);
  });

  it('subscription create: a listener subscribes (active at once), then state moves it to past_due', async () => {
    const plan = json(await cli.run(['plan', 'create', '--name', 'Sub', '--price', '3', '--json'], { env: dj }));
    const created = await cli.run(['subscription', 'create', '--plan', plan.id, '--json'], { env: listener });
    expect(created.code, created.stderr).toBe(0);
    const sub = json(created);
    expect(sub).toMatchObject({ plan_id: plan.id, status: 'active', entitled: true, provider: 'local', price_cents: 300 });

    const again = await cli.run(['subscription', 'create', '--plan', plan.id, '--json'], { env: listener });
    expect(again.code).toBe(1);
    expect(json(again).code).toBe('conflict');

    const moved = await cli.run(['subscription', 'state', sub.id, 'past_due', '--json'], { env: listener });
    expect(moved.code, moved.stderr).toBe(0);
    expect(json(moved)).toMatchObject({ id: sub.id, status: 'past_due', entitled: false });
  });

  it('payouts status: local test mode needs no account', async () => {
    const status = await cli.run(['payouts', 'status', '--json'], { env: dj });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status)).toMatchObject({ provider: 'local', account_id: null, can_sell_paid_plans: true });
    const text = await cli.run(['payouts', 'status'], { env: dj });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/provider:\s+local/);
    expect(text.stderr).toContain('no payout account is needed');
    const setup = await cli.run(['payouts', 'setup'], { env: dj });
    expect(setup.code).toBe(1);
    expect(setup.stderr).toContain('local test mode');
  });
});

describe('djcast payouts on Stripe (sqlite)', { timeout: 180_000 }, () => {
  const SECRET_KEY = 'sk_test_fake_djcast_cli';
  let fake: FakeStripe;
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let cli: CliSandbox;

  beforeAll(async () => {
    await ensureBuilt('cli');
    fake = await startFakeStripe({ secretKey: SECRET_KEY, apiVersion: STRIPE_API_VERSION, applicationFeePercent: 10 });
    t = await createTestApp('sqlite', {
      DJCAST_STRIPE_SECRET_KEY: SECRET_KEY,
      DJCAST_STRIPE_API_BASE: fake.url,
      DJCAST_BILLING_APPLICATION_FEE_PERCENT: '10',
    });
    server = await listen(t);
    cli = cliSandbox(server.url);
  }, 180_000);
  afterAll(async () => {
    expect(fake?.violations).toEqual([]);
    await server?.close();
    await t?.close();
    await fake?.close();
  });

  it('setup prints the onboarding link; status shows charges and payouts before and after onboarding; plan create sends a DJ without one there', async () => {
    const env = { DJCAST_TOKEN: (await signUp(t)).token };
    const refused = await cli.run(['plan', 'create', '--name', 'Gold', '--price', '4.99'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('payouts_required');
    expect(refused.stderr).toMatch(/Finish onboarding at https:\/\/connect\.stripe\.test\/setup\/e\/acct_\w+/);

    const setup = await cli.run(['payouts', 'setup'], { env });
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout.trim()).toMatch(/^https:\/\/connect\.stripe\.test\/setup\/e\/acct_\w+\/link_\w+$/);
    const setupJson = json(await cli.run(['payouts', 'setup', '--json'], { env }));
    expect(setupJson).toMatchObject({ provider: 'stripe', charges_enabled: false });
    expect(setupJson.onboarding_url).toMatch(/^https:\/\/connect\.stripe\.test\//);

    const before = await cli.run(['payouts', 'status', '--json'], { env });
    expect(before.code, before.stderr).toBe(0);
    expect(json(before)).toMatchObject({
      account_id: setupJson.account_id,
      charges_enabled: false,
      payouts_enabled: false,
      can_sell_paid_plans: false,
      application_fee_percent: 10,
    });
    expect(json(before).requirements_due).toContain('external_account');

    fake.updateAccount(setupJson.account_id, {
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      requirements: { currently_due: [], disabled_reason: null },
    });
    const after = await cli.run(['payouts', 'status'], { env });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/charges:\s+yes/);
    expect(after.stdout).toMatch(/payouts:\s+yes/);
    expect(after.stdout).toMatch(/requirements due:\s+none/);

    const plan = await cli.run(['plan', 'create', '--name', 'Gold', '--price', '4.99', '--json'], { env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(json(plan)).toMatchObject({ provider: 'stripe', status: 'active' });
  });
});
