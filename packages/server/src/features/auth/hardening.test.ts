import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, STRONG_PASSWORD, createTestApp, signUp, uniqueEmail, type TestApp } from '../../../test/harness.js';

/**
 * Accounts under attack, over real HTTP on loopback: the server sees each request's source
 * address, and the test picks it by binding the client to 127.0.0.x (all of 127/8 is local).
 */

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface Served {
  url: URL;
  close(): Promise<void>;
}

async function serveOnLoopback(t: TestApp): Promise<Served> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function call(
  base: URL,
  method: string,
  path: string,
  opts: { body?: unknown; from?: string; token?: string; agent?: Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        localAddress: opts.from ?? '127.0.0.1',
        agent: opts.agent ?? false,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function register(t: TestApp, email = uniqueEmail()): Promise<string> {
  const res = await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
  expect(res.status).toBe(201);
  return email;
}

function count(replies: Reply[], status: number): number {
  return replies.filter((r) => r.status === status).length;
}

describe.each(DIALECTS)('account hardening on %s', (dialect) => {
  let t: TestApp | undefined;
  let served: Served | undefined;
  afterEach(async () => {
    await served?.close();
    await t?.close();
    served = undefined;
    t = undefined;
  });

  async function start(env: Record<string, string>): Promise<{ t: TestApp; base: URL }> {
    t = await createTestApp(dialect, env);
    served = await serveOnLoopback(t);
    return { t, base: served.url };
  }

  it('200 simultaneous wrong passwords: the attempt is reserved before the check, so only the limit is ever verified', async () => {
    const { t } = await start({
      DJCAST_LOGIN_MAX_FAILURES: '5',
      DJCAST_LOGIN_MAX_FAILURES_PER_EMAIL: '1000',
      DJCAST_LOGIN_MAX_FAILURES_PER_IP: '1000',
      DJCAST_LOGIN_MAX_PER_IP: '1000',
      // Every request may wait for argon2: what stops a guess here is the limiter, not the gate.
      DJCAST_PASSWORD_HASH_QUEUE: '1000',
    });
    const email = await register(t);
    const before = t.container.auth.passwordWorkStats().started;
    // In process, so all 200 reach the handler together (no connection queueing spreads them out).
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => t.request('POST', '/v1/auth/login', { body: { email, password: `guess-${i}-!` } })),
    );
    const verified = t.container.auth.passwordWorkStats().started - before;
    expect(verified).toBe(5);
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(195);
    const limited = responses.find((r) => r.status === 429)!;
    expect(((await limited.json()) as { code: string }).code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // The right password is refused too for this (email, address) until the window ends, unchecked.
    expect((await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } })).status).toBe(429);
    expect(t.container.auth.passwordWorkStats().started - before).toBe(5);
  });

  it('one address cannot lock an account out of other addresses; the per-email ceiling stops a distributed guesser', async () => {
    const { t, base } = await start({
      DJCAST_LOGIN_MAX_FAILURES: '3',
      DJCAST_LOGIN_MAX_FAILURES_PER_EMAIL: '8',
    });
    const email = await register(t);
    const login = (from: string, password: string) => call(base, 'POST', '/v1/auth/login', { from, body: { email, password } });

    for (let i = 0; i < 3; i++) expect((await login('127.0.0.2', `wrong-${i}!`)).status).toBe(401);
    const locked = await login('127.0.0.2', STRONG_PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);

    // The owner, elsewhere, is not locked out by the attacker's address.
    const owner = await login('127.0.0.3', STRONG_PASSWORD);
    expect(owner.status).toBe(200);
    expect(owner.body.access_token).toEqual(expect.any(String));

    // Failures so far count 3 against the email. Other addresses add theirs up to the ceiling of 8.
    for (let i = 0; i < 3; i++) expect((await login('127.0.0.4', `wrong-${i}!`)).status).toBe(401);
    expect((await login('127.0.0.5', 'wrong-a!')).status).toBe(401);
    expect((await login('127.0.0.5', 'wrong-b!')).status).toBe(401);
    expect((await login('127.0.0.5', 'wrong-c!')).status).toBe(429);
    expect((await login('127.0.0.6', STRONG_PASSWORD)).status).toBe(429);
  });

  it('limits logins and registrations per client address, with Retry-After', async () => {
    const { t, base } = await start({ DJCAST_LOGIN_MAX_PER_IP: '4', DJCAST_REGISTER_MAX_PER_IP: '2' });
    const email = await register(t);

    const logins = [];
    for (let i = 0; i < 5; i++)
      logins.push(await call(base, 'POST', '/v1/auth/login', { from: '127.0.0.7', body: { email, password: STRONG_PASSWORD } }));
    expect(logins.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(logins[4]!.body.code).toBe('rate_limited');
    expect(Number(logins[4]!.headers['retry-after'])).toBeGreaterThan(0);
    expect(
      (await call(base, 'POST', '/v1/auth/login', { from: '127.0.0.8', body: { email, password: STRONG_PASSWORD } })).status,
    ).toBe(200);

    const signups = [];
    for (let i = 0; i < 3; i++) {
      signups.push(
        await call(base, 'POST', '/v1/auth/register', {
          from: '127.0.0.9',
          body: { email: uniqueEmail(), password: STRONG_PASSWORD },
        }),
      );
    }
    expect(signups.map((r) => r.status)).toEqual([201, 201, 429]);
    expect(signups[2]!.body.code).toBe('rate_limited');
    expect(Number(signups[2]!.headers['retry-after'])).toBeGreaterThan(0);
    const elsewhere = await call(base, 'POST', '/v1/auth/register', {
      from: '127.0.0.10',
      body: { email: uniqueEmail(), password: STRONG_PASSWORD },
    });
    expect(elsewhere.status).toBe(201);
  });

  it('a storm of correct logins keeps /healthz answering, and logins beyond the line get 503 with Retry-After, not a hang', async () => {
    const { t, base } = await start({
      DJCAST_LOGIN_MAX_FAILURES: '10000',
      DJCAST_LOGIN_MAX_FAILURES_PER_EMAIL: '10000',
      DJCAST_LOGIN_MAX_FAILURES_PER_IP: '10000',
      DJCAST_LOGIN_MAX_PER_IP: '10000',
      DJCAST_PASSWORD_HASH_QUEUE: '16',
    });
    const email = await register(t);
    // The probe is a monitor with its connection already open (as a load balancer keeps one):
    // it measures whether the server answers, not how the kernel queues 200 new connections.
    const monitor = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await call(base, 'GET', '/healthz', { agent: monitor })).status).toBe(200);
    const health: number[] = [];
    let stormOver = false;
    const probe = (async () => {
      while (!stormOver) {
        const started = performance.now();
        const res = await call(base, 'GET', '/healthz', { agent: monitor });
        expect(res.status).toBe(200);
        health.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const stormStarted = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 200 }, () => call(base, 'POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } })),
    );
    const stormMs = performance.now() - stormStarted;
    stormOver = true;
    await probe;
    monitor.destroy();

    const ok = count(replies, 200);
    const busy = replies.filter((r) => r.status === 503);
    const sorted = [...health].sort((x, y) => x - y);
    const max = sorted.at(-1)!;
    const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
    console.log(
      `[${dialect}] storm of 200 logins: ${ok} ok, ${busy.length} busy in ${Math.round(stormMs)} ms; ` +
        `/healthz ${health.length} probes, p95 ${Math.round(p95)} ms, max ${Math.round(max)} ms`,
    );
    expect(health.length).toBeGreaterThan(0);
    expect(max).toBeLessThan(HEALTHZ_BOUND_MS);
    expect(ok + busy.length).toBe(200);
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.body.code).toBe('unavailable');
      expect(r.headers['retry-after']).toBe('1');
    }
  }, 120_000);
});

describe.each(DIALECTS)('access tokens tied to their session on %s', (dialect) => {
  const JWT_SECRET = 'a-test-secret-that-is-long-enough-for-hs256!';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_JWT_SECRET: JWT_SECRET, DJCAST_JWT_CLOCK_SKEW_SECONDS: '60' });
  });
  afterAll(async () => {
    await t.close();
  });
  const me = (token: string) => t.request('GET', '/v1/me', { token });

  it('carries a sid claim naming the session', async () => {
    const user = await signUp(t);
    const claims = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString()) as { sid?: string };
    expect(claims.sid).toMatch(/^rft_/);
    const family = await t.container.db.kysely
      .selectFrom('refresh_tokens')
      .select('family_id')
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(claims.sid).toBe(family.family_id);
  });

  it('logout ends the 24 h access token at once; another session of the same user lives on', async () => {
    const user = await signUp(t);
    const other = (await (
      await t.request('POST', '/v1/auth/login', { body: { email: user.email, password: STRONG_PASSWORD } })
    ).json()) as {
      access_token: string;
    };
    expect((await me(user.token)).status).toBe(200);
    expect((await t.request('POST', '/v1/auth/logout', { body: { refresh_token: user.refresh_token } })).status).toBe(204);
    const after = await me(user.token);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string }).code).toBe('invalid_token');
    expect((await me(other.access_token)).status).toBe(200);
  });

  it('refresh-token reuse ends every access token of the session, old and new', async () => {
    const user = await signUp(t);
    const rotated = (await (
      await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: user.refresh_token } })
    ).json()) as {
      access_token: string;
      refresh_token: string;
    };
    expect((await me(user.token)).status).toBe(200);
    expect((await me(rotated.access_token)).status).toBe(200);
    // A thief replays the first refresh token: the family is revoked, and with it both access tokens.
    expect((await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: user.refresh_token } })).status).toBe(401);
    expect((await me(user.token)).status).toBe(401);
    expect((await me(rotated.access_token)).status).toBe(401);
    expect((await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: rotated.refresh_token } })).status).toBe(401);
  });

  async function forge(claims: { sub: string; sid?: string; role?: string }, iat: number): Promise<string> {
    const jwt = new SignJWT({ role: claims.role ?? 'dj', ...(claims.sid ? { sid: claims.sid } : {}) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setIssuer('http://djcast.test')
      .setAudience('djcast-api')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600);
    return jwt.sign(new TextEncoder().encode(JWT_SECRET));
  }

  it('refuses a token issued in the future beyond the skew, accepts one within it', async () => {
    const user = await signUp(t);
    const { sid } = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString()) as { sid: string };
    const now = Math.floor(Date.now() / 1000);
    // The signing path itself is sound: a token like the server's, issued now, passes.
    expect((await me(await forge({ sub: user.userId, sid }, now))).status).toBe(200);
    expect((await me(await forge({ sub: user.userId, sid }, now + 30))).status).toBe(200);
    const future = await me(await forge({ sub: user.userId, sid }, now + 3600));
    expect(future.status).toBe(401);
    expect(((await future.json()) as { code: string }).code).toBe('invalid_token');
  });

  it('refuses a token without a session, or naming a session of another user', async () => {
    const user = await signUp(t);
    const someoneElse = await signUp(t);
    const { sid: othersSid } = JSON.parse(Buffer.from(someoneElse.token.split('.')[1]!, 'base64url').toString()) as {
      sid: string;
    };
    const now = Math.floor(Date.now() / 1000);
    expect((await me(await forge({ sub: user.userId }, now))).status).toBe(401);
    expect((await me(await forge({ sub: user.userId, sid: othersSid }, now))).status).toBe(401);
    expect((await me(await forge({ sub: user.userId, sid: 'rft_does_not_exist' }, now))).status).toBe(401);
  });
});

/** The issue measured a 10 s stall; with the gate the probes answer in well under this, even on a loaded 2-core machine. */
const HEALTHZ_BOUND_MS = 1500;
