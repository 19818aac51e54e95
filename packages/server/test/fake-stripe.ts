// A loopback stand-in for the Stripe API: checks every request the official
// package sends (method, path, form-encoded parameters, Idempotency-Key,
// Stripe-Version, Stripe-Account, the secret key) and answers with
// Stripe-shaped objects. Anything off is recorded as a violation and
// answered 400, so a test sees it.

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
  close(): Promise<void>;
}

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
];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeStripe(opts: { secretKey: string; apiVersion: string }): Promise<FakeStripe> {
  let n = 0;
  const next = (prefix: string) => `${prefix}_fake${String(++n).padStart(6, '0')}`;
  const state: Omit<FakeStripe, 'url' | 'close'> = { calls: [], violations: [], failing: false };

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
    if (problems.length > 0) {
      state.violations.push(...problems.map((p) => `${method} ${path}: ${p}`));
      return answer(400, { error: { type: 'invalid_request_error', message: problems.join('; ') } });
    }
    if (state.failing) return answer(500, { error: { type: 'api_error', message: 'Stripe is having a bad day' } });

    const now = Math.floor(Date.now() / 1000);
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
