// A loopback stand-in for the Stripe API: checks every request the official
// package sends (method, path, form-encoded parameters, Idempotency-Key,
// Stripe-Version, Stripe-Account, the secret key) and answers with
// Stripe-shaped objects. Anything off is recorded as a violation and
// answered 400, so a test sees it.
//
// Connect: Products, Prices, Customers, Subscriptions, Checkout and portal
// sessions must be sent to a DJ's connected account (a Stripe-Account header
// naming an account this fake created, with charges enabled), and every
// Subscription or Checkout Session must carry the platform's
// application_fee_percent. Account and Account Link calls are the
// platform's own and must not carry Stripe-Account.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeCall {
  method: string;
  path: string;
  params: Record<string, string>;
  idempotencyKey: string | undefined;
  account: string | undefined;
  version: string | undefined;
}

export interface FakeStripe {
  url: string;
  calls: StripeCall[];
  violations: string[];
  /** While true every call answers 500 (an outage). */
  failing: boolean;
  /** Connected accounts created through the API, by id. */
  accounts: Map<string, FakeAccount>;
  /** Changes what Stripe says about a connected account (as finishing onboarding would). */
  updateAccount(id: string, patch: Partial<FakeAccount>): FakeAccount;
  close(): Promise<void>;
}

export interface FakeAccount {
  id: string;
  object: 'account';
  type: 'express';
  email: string | null;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  requirements: { currently_due: string[]; disabled_reason: string | null };
  metadata: Record<string, string>;
}

/** Calls that act on a DJ's connected account (Stripe-Account required). */
const ON_CONNECTED_ACCOUNT = /^\/v1\/(products|prices|customers|subscriptions|checkout\/sessions|billing_portal\/sessions)(\/|$)/;

const ROUTES: [string, RegExp][] = [
  ['POST', /^\/v1\/products$/],
  ['POST', /^\/v1\/products\/prod_\w+$/],
  ['POST', /^\/v1\/prices$/],
  ['POST', /^\/v1\/prices\/price_\w+$/],
  ['POST', /^\/v1\/customers$/],
  ['POST', /^\/v1\/subscriptions$/],
  ['POST', /^\/v1\/subscriptions\/sub_\w+$/],
  ['DELETE', /^\/v1\/subscriptions\/sub_\w+$/],
  ['POST', /^\/v1\/checkout\/sessions$/],
  ['POST', /^\/v1\/billing_portal\/sessions$/],
  ['POST', /^\/v1\/accounts$/],
  ['GET', /^\/v1\/accounts\/acct_\w+$/],
  ['POST', /^\/v1\/account_links$/],
];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeStripe(opts: {
  secretKey: string;
  apiVersion: string;
  /** The fee every subscription on a connected account must carry. */
  applicationFeePercent: number;
}): Promise<FakeStripe> {
  let n = 0;
  const next = (prefix: string) => `${prefix}_fake${String(++n).padStart(6, '0')}`;
  const accounts = new Map<string, FakeAccount>();
  const accountsByKey = new Map<string, FakeAccount>();
  const state: Omit<FakeStripe, 'url' | 'close'> = {
    calls: [],
    violations: [],
    failing: false,
    accounts,
    updateAccount(id, patch) {
      const account = accounts.get(id);
      if (!account) throw new Error(`no fake account ${id}`);
      Object.assign(account, patch);
      return account;
    },
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = (req.url ?? '').split('?')[0]!;
    const method = req.method ?? '';
    const params = Object.fromEntries(new URLSearchParams(raw));
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const call: StripeCall = {
      method,
      path,
      params,
      idempotencyKey: header('idempotency-key'),
      account: header('stripe-account'),
      version: header('stripe-version'),
    };
    state.calls.push(call);
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': next('req') });
      res.end(JSON.stringify(body));
    };
    const problems: string[] = [];
    if (header('authorization') !== `Bearer ${opts.secretKey}`) problems.push('wrong or missing secret key');
    if (call.version !== opts.apiVersion) problems.push(`Stripe-Version ${call.version} is not the pinned ${opts.apiVersion}`);
    if (method === 'POST' && !call.idempotencyKey) problems.push('POST without an Idempotency-Key');
    if (method === 'POST' && raw && !String(header('content-type')).startsWith('application/x-www-form-urlencoded'))
      problems.push('body is not form-encoded');
    if (!ROUTES.some(([m, re]) => m === method && re.test(path))) problems.push(`unexpected ${method} ${path}`);
    if (ON_CONNECTED_ACCOUNT.test(path)) {
      const account = call.account ? accounts.get(call.account) : undefined;
      if (!call.account) problems.push('no Stripe-Account header: this object belongs on the DJ’s connected account');
      else if (!account) problems.push(`Stripe-Account ${call.account} is not a connected account of this platform`);
      else if (!account.charges_enabled) problems.push(`connected account ${call.account} cannot take charges yet`);
    } else if (call.account) problems.push('a platform call carries Stripe-Account');
    const fee =
      method === 'POST' && path === '/v1/subscriptions'
        ? params.application_fee_percent
        : method === 'POST' && path === '/v1/checkout/sessions'
          ? params['subscription_data[application_fee_percent]']
          : null;
    if (fee !== null && Number(fee) !== opts.applicationFeePercent) {
      problems.push(`application_fee_percent is ${fee}, not the platform's ${opts.applicationFeePercent}`);
    }
    if (problems.length > 0) {
      state.violations.push(...problems.map((p) => `${method} ${path}: ${p}`));
      return answer(400, { error: { type: 'invalid_request_error', message: problems.join('; ') } });
    }
    if (state.failing) return answer(500, { error: { type: 'api_error', message: 'Stripe is having a bad day' } });

    const now = Math.floor(Date.now() / 1000);
    if (path === '/v1/accounts') {
      // Stripe answers the same object for a repeated idempotency key.
      const key = call.idempotencyKey!;
      const existing = accountsByKey.get(key);
      if (existing) return answer(200, existing);
      if (params.type !== 'express')
        return answer(400, { error: { type: 'invalid_request_error', message: 'type must be express' } });
      const account: FakeAccount = {
        id: next('acct'),
        object: 'account',
        type: 'express',
        email: params.email ?? null,
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        requirements: { currently_due: ['external_account', 'individual.dob.day'], disabled_reason: 'requirements.past_due' },
        metadata: { djcast_user_id: params['metadata[djcast_user_id]'] ?? '' },
      };
      accounts.set(account.id, account);
      accountsByKey.set(key, account);
      return answer(200, account);
    }
    if (path.startsWith('/v1/accounts/')) {
      const account = accounts.get(path.split('/')[3]!);
      return account
        ? answer(200, account)
        : answer(404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such account' } });
    }
    if (path === '/v1/account_links') {
      if (!accounts.has(params.account ?? '')) state.violations.push(`POST ${path}: unknown account ${params.account}`);
      if (params.type !== 'account_onboarding' || !params.refresh_url || !params.return_url)
        state.violations.push(`POST ${path}: needs type=account_onboarding, refresh_url and return_url`);
      return answer(200, {
        object: 'account_link',
        url: `https://connect.stripe.test/setup/e/${params.account}/${next('link')}`,
        created: now,
        expires_at: now + 300,
      });
    }
    if (path === '/v1/products') return answer(200, { id: next('prod'), object: 'product', name: params.name, active: true });
    if (path.startsWith('/v1/products/'))
      return answer(200, { id: path.split('/')[3], object: 'product', active: params.active !== 'false' });
    if (path === '/v1/prices')
      return answer(200, {
        id: next('price'),
        object: 'price',
        product: params.product,
        unit_amount: Number(params.unit_amount),
        currency: params.currency,
        recurring: { interval: params['recurring[interval]'] },
        active: true,
      });
    if (path.startsWith('/v1/prices/'))
      return answer(200, { id: path.split('/')[3], object: 'price', active: params.active !== 'false' });
    // Stripe's test card 4000 0000 0000 0002: attaching it to a customer is declined (402, a card_error).
    if (path === '/v1/customers' && params.payment_method === 'pm_card_visa_chargeDeclined')
      return answer(402, {
        error: {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'generic_decline',
          message: 'Your card was declined.',
          param: 'payment_method',
        },
      });
    if (path === '/v1/customers') return answer(200, { id: next('cus'), object: 'customer', email: params.email });
    if (path === '/v1/subscriptions')
      return answer(200, {
        id: next('sub'),
        object: 'subscription',
        status: 'active',
        customer: params.customer,
        cancel_at_period_end: false,
        items: {
          object: 'list',
          data: [
            {
              id: next('si'),
              object: 'subscription_item',
              current_period_end: now + 30 * 86400,
              price: { id: params['items[0][price]'] },
            },
          ],
        },
      });
    if (path.startsWith('/v1/subscriptions/'))
      return answer(200, {
        id: path.split('/')[3],
        object: 'subscription',
        status: method === 'DELETE' ? 'canceled' : 'active',
        cancel_at_period_end: params.cancel_at_period_end === 'true',
      });
    if (path === '/v1/checkout/sessions') {
      const id = next('cs');
      return answer(200, {
        id,
        object: 'checkout.session',
        mode: 'subscription',
        url: `https://checkout.stripe.test/c/pay/${id}`,
      });
    }
    const id = next('bps');
    return answer(200, {
      id,
      object: 'billing_portal.session',
      customer: params.customer,
      url: `https://billing.stripe.test/p/session/${id}`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
