// The web subscribe flow behind a page's Subscribe button: GET /subscribe
// shows the plan and a sign-up and a log-in form (or a confirm button when
// signed in); the forms post here, create or check the listener account
// through the auth service (its rules and rate limits), set the session
// cookie and create the subscription through the billing service: to
// Stripe Checkout when Stripe is configured, back to the page when the
// local test mode activated it. Browser forms, not API operations: plain
// routes outside the OpenAPI document and the SDK.

import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { DomainError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import type { App, AppEnv } from '../../http/env.js';
import type { AuthService } from '../auth/service.js';
import type { BillingService } from '../billing/service.js';
import { PAGE_STYLE_HASH } from './templates.js';
import { renderSubscribe, renderSubscribeProblem, type SubscribeView } from './subscribe-templates.js';
import { CSRF_COOKIE, CSRF_COOKIE_SECONDS, SESSION_COOKIE, type WebSessions } from './web-session.js';

export interface WebSubscribeDeps {
  auth: Pick<AuthService, 'register' | 'login' | 'authenticate' | 'me'>;
  billing: Pick<BillingService, 'createSubscription' | 'planOnSale'>;
  sessions: WebSessions;
  publicUrl: string;
}

/** A form is a few fields: anything larger is not one of ours. */
const MAX_FORM_BYTES = 8 * 1024;
const PLAN_ID = /^pln_[0-9a-z]{26}$/;

/** The listener signed in on the pages, from the session cookie; null without one (or an expired one). */
export async function pageListener(c: Context<AppEnv>, deps: WebSubscribeDeps | undefined): Promise<Principal | null> {
  const token = deps ? getCookie(c, SESSION_COOKIE) : undefined;
  if (!deps || !token) return null;
  return deps.auth.authenticate(token).catch(() => null);
}

export function formPageHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    // No script at all; forms post here, and (after a post) may be redirected to Stripe Checkout.
    'Content-Security-Policy': [
      "default-src 'none'",
      `style-src ${PAGE_STYLE_HASH}`,
      // The empty favicon (data:,), so the browser does not ask for /favicon.ico.
      'img-src data:',
      "form-action 'self' https://checkout.stripe.com",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'private, no-store',
    ...extra,
  };
}

/** The CSRF token for a form on this page, setting the browser's CSRF cookie when it has none yet. */
export function formCsrfToken(c: Context<AppEnv>, sessions: WebSessions): string {
  return sessions.csrfToken(browserIdOf(c, sessions));
}

function browserIdOf(c: Context<AppEnv>, sessions: WebSessions): string {
  const existing = getCookie(c, CSRF_COOKIE);
  if (existing && /^[A-Za-z0-9_-]{16,64}$/.test(existing)) return existing;
  const id = sessions.newBrowserId();
  setCookie(c, CSRF_COOKIE, id, sessions.cookie(CSRF_COOKIE_SECONDS));
  return id;
}

/** A short HTML page saying why a form did not go through. */
export function formProblem(c: Context<AppEnv>, status: 400 | 401 | 403 | 404 | 409, title: string, detail: string) {
  return c.body(renderSubscribeProblem(title, detail), status, formPageHeaders());
}

/**
 * Reads and checks a posted form: same origin and a valid CSRF token; null
 * when it is not a small urlencoded form at all.
 */
export async function readForm(c: Context<AppEnv>, sessions: WebSessions) {
  const length = Number(c.req.header('content-length') ?? '0');
  const type = c.req.header('content-type') ?? '';
  if (length > MAX_FORM_BYTES || !type.startsWith('application/x-www-form-urlencoded')) return null;
  const body = await c.req.parseBody();
  const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
  const refusal = sessions.refuse({
    browserId: getCookie(c, CSRF_COOKIE),
    token: field('csrf'),
    origin: c.req.header('origin'),
    referer: c.req.header('referer'),
  });
  return { field, refusal };
}

export function registerSubscribeRoutes(app: App, deps: WebSubscribeDeps): void {
  const { sessions } = deps;
  const browserId = (c: Context<AppEnv>): string => browserIdOf(c, sessions);
  const problem = formProblem;

  const form = async (
    c: Context<AppEnv>,
    planId: string | undefined,
    returnValue: string | undefined,
    state: { error?: string; email?: string; status?: 200 | 400 | 401 | 409 | 429; principal?: Principal | null } = {},
  ) => {
    const returnPath = sessions.returnPath(returnValue);
    if (!planId || !PLAN_ID.test(planId) || !returnPath)
      return problem(
        c,
        400,
        'Nothing to subscribe to',
        'This link is incomplete. Go back to the page and use its Subscribe button.',
      );
    const plan = await deps.billing.planOnSale(planId);
    if (!plan)
      return problem(
        c,
        404,
        'This plan is not on sale',
        'The DJ no longer sells this plan. Go back to the page for the plans on sale.',
      );
    const principal = state.principal === undefined ? await pageListener(c, deps) : state.principal;
    const me = principal ? await deps.auth.me(principal).catch(() => null) : null;
    const view: SubscribeView = {
      plan,
      returnPath,
      csrf: sessions.csrfToken(browserId(c)),
      signedInAs: me?.email ?? null,
      error: state.error ?? null,
      ...(state.email ? { email: state.email } : {}),
    };
    return c.body(renderSubscribe(view), state.status ?? 200, formPageHeaders());
  };

  app.get('/subscribe', (c) => form(c, c.req.query('plan'), c.req.query('return')));

  const posted = (c: Context<AppEnv>) => readForm(c, sessions);

  /** Creates the subscription and sends the browser on: to Checkout, or back to the page. */
  const subscribe = async (c: Context<AppEnv>, principal: Principal, planId: string, returnPath: string) => {
    const back = `${deps.publicUrl}${returnPath}`;
    try {
      const sub = await deps.billing.createSubscription(principal, { plan_id: planId }, { returnUrl: back });
      return c.redirect(sub.checkout_url ?? back, 303);
    } catch (error) {
      // Already subscribed: the page is where they want to be.
      if (error instanceof DomainError && error.code === 'conflict' && 'subscription_id' in error.extra)
        return c.redirect(back, 303);
      throw error;
    }
  };

  const startSession = (c: Context<AppEnv>, accessToken: string, seconds: number) =>
    setCookie(c, SESSION_COOKIE, accessToken, sessions.cookie(seconds));

  for (const action of ['signup', 'login', 'confirm'] as const) {
    app.post(`/subscribe/${action}`, async (c) => {
      const post = await posted(c);
      if (!post) return problem(c, 400, 'Not a form', 'Send the form from the subscribe page.');
      if (post.refusal) return problem(c, 403, 'The form was refused', post.refusal);
      const planId = post.field('plan');
      const returnPath = sessions.returnPath(post.field('return'));
      if (!planId || !PLAN_ID.test(planId) || !returnPath) return form(c, planId, post.field('return'));
      const email = post.field('email') ?? '';
      const password = post.field('password') ?? '';
      try {
        let principal: Principal | null;
        if (action === 'confirm') {
          principal = await pageListener(c, deps);
          if (!principal)
            return form(c, planId, returnPath, { error: 'Your session has ended. Log in again.', status: 401, principal: null });
        } else {
          if (action === 'signup') await deps.auth.register({ email, password, role: 'listener' }, c.get('clientAddress'));
          const tokens = await deps.auth.login({ email, password, clientIp: c.get('clientAddress') });
          startSession(c, tokens.access_token, tokens.expires_in);
          principal = await deps.auth.authenticate(tokens.access_token);
          if (!principal) throw new DomainError('invalid_token', 'The new session could not be read.');
        }
        return await subscribe(c, principal, planId, returnPath);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        const status = error.status === 401 || error.status === 409 || error.status === 429 ? error.status : 400;
        const retry = error.extra.headers?.['Retry-After'];
        if (retry) c.header('Retry-After', retry);
        return form(c, planId, returnPath, {
          error: error.detail,
          email,
          status,
          principal: action === 'confirm' ? undefined : null,
        });
      }
    });
  }
}
