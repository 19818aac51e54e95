import { z } from '@hono/zod-openapi';
import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { extraErrors, json, publicRoute, securedRoute } from '../../http/openapi.js';
import type { PayoutsService } from './payouts.js';
import { PayoutAccountSchema, PayoutSetupSchema } from './schemas.js';

const tags = ['payouts'];

const setupPayouts = securedRoute(
  'monetization:write',
  {
    method: 'post',
    path: '/v1/payouts/setup',
    operationId: 'setupPayouts',
    tags,
    summary: 'Connect a Stripe account to get paid: creates (or reuses) yours and answers an onboarding link',
    description:
      'Stripe Connect (Express). The first call creates your connected account; later calls reuse it. ' +
      'Each call answers a fresh, single-use onboarding link. 409 in local test mode (no account is needed); ' +
      '503 when Stripe is unreachable (nothing is stored).',
    responses: {
      200: { description: 'Your account and its onboarding link', content: json(PayoutSetupSchema) },
      ...extraErrors(409, 503),
    },
  },
  // Each onboarding link is single-use and short-lived: a retry must get a new one.
  { idempotent: false },
);

const getPayouts = securedRoute('monetization:write', {
  method: 'get',
  path: '/v1/payouts',
  operationId: 'getPayouts',
  tags,
  summary: 'Your payout account: whether charges and payouts are enabled, and what Stripe still needs',
  description:
    'Read afresh from Stripe (the last known state when Stripe is unreachable). In local test mode no account is needed.',
  responses: { 200: { description: 'Your payout account', content: json(PayoutAccountSchema) } },
});

const htmlContent = { 'text/html': { schema: z.string() } };

const onboardingReturn = publicRoute({
  method: 'get',
  path: '/payouts/return',
  operationId: 'getPayoutsOnboardingReturn',
  tags,
  summary: 'Where Stripe sends a DJ back after onboarding',
  responses: { 200: { description: 'A page saying what to do next', content: htmlContent } },
});

const onboardingRefresh = publicRoute({
  method: 'get',
  path: '/payouts/refresh',
  operationId: 'getPayoutsOnboardingRefresh',
  tags,
  summary: 'Where Stripe sends a DJ whose onboarding link expired',
  responses: { 200: { description: 'A page saying how to get a new link', content: htmlContent } },
});

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>`;
}

const pageHeaders = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'public, max-age=3600',
};

export function registerPayoutRoutes(app: App, payouts: PayoutsService): void {
  app.openapi(setupPayouts, async (c) => c.json(await payouts.setup(principalOf(c).userId), 200));
  app.openapi(getPayouts, async (c) => c.json(await payouts.status(principalOf(c).userId), 200));
  app.openapi(onboardingReturn, (c) =>
    c.body(
      page(
        'Back from Stripe',
        'Thank you. Stripe is checking what you entered; run <code>djcast payouts status</code> to see whether charges and payouts are enabled.',
      ),
      200,
      pageHeaders,
    ),
  );
  app.openapi(onboardingRefresh, (c) =>
    c.body(
      page(
        'This onboarding link has expired',
        'Run <code>djcast payouts setup</code> to get a new link and continue where you left off.',
      ),
      200,
      pageHeaders,
    ),
  );
}
