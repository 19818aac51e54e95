import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDjcastClient, DjcastApiError, DjcastConnectionError, type RetryInfo } from '../src/index.js';
import { manualClock, PASSWORD, startTestServer, uniqueEmail, type TestServer } from './support/server.js';

/** Records the waits the client asks for instead of waiting; optionally moves the server's clock by them. */
function fakeSleep(onSleep: (ms: number) => void = () => {}) {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
      onSleep(ms);
    },
  };
}

/** Fault injector in front of the real server: the first `failures` requests get a 503 problem. */
function failingFirst(server: TestServer, failures: number, init: { retryAfter?: string } = {}) {
  let remaining = failures;
  return async (request: Request): Promise<Response> => {
    if (remaining > 0) {
      remaining -= 1;
      // Like a load balancer with no healthy backend: recorded, never processed.
      server.sent.push({ method: request.method, path: new URL(request.url).pathname, headers: new Headers(request.headers) });
      const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'x-request-id': 'req_injected' };
      if (init.retryAfter) headers['retry-after'] = init.retryAfter;
      const body = {
        type: 'https://djcast.dev/problems/unavailable',
        title: 'Service unavailable',
        status: 503,
        detail: 'Injected fault.',
        code: 'unavailable',
        request_id: 'req_injected',
      };
      return new Response(JSON.stringify(body), { status: 503, headers });
    }
    return server.fetch(request);
  };
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('retries', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('waits the Retry-After of a 429 from the real login rate limiter, then succeeds with the same Idempotency-Key', async () => {
    // A window boundary 50 s away: the limiter answers Retry-After: 50.
    const clock = manualClock(Date.UTC(2030, 0, 1, 0, 0, 10));
    server = await startTestServer({ DJCAST_LOGIN_MAX_FAILURES: '2', DJCAST_LOGIN_WINDOW_SECONDS: '60' }, { clock: clock.now });
    const email = uniqueEmail();
    const setup = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, retries: 0 });
    await setup.auth.register({ email, password: PASSWORD });
    for (const attempt of [1, 2]) {
      expect(((await caught(setup.auth.login({ email, password: `wrong-${attempt}!` }))) as DjcastApiError).code).toBe(
        'invalid_credentials',
      );
    }

    // The fake sleep moves the server's clock by the wait, as real waiting would.
    const { waits, sleep } = fakeSleep((ms) => clock.advance(ms));
    const retries: RetryInfo[] = [];
    const client = createDjcastClient({
      baseUrl: server.baseUrl,
      fetch: server.fetch,
      sleep,
      onRetry: (info) => retries.push(info),
    });
    const before = server.sent.length;
    const tokens = await client.auth.login({ email, password: PASSWORD });

    expect(tokens.access_token).toBeTruthy();
    expect(waits).toEqual([50_000]);
    expect(retries).toMatchObject([{ attempt: 1, reason: 'rate_limited', status: 429, delayMs: 50_000 }]);
    const logins = server.sent.slice(before);
    expect(logins.map((r) => r.path)).toEqual(['/v1/auth/login', '/v1/auth/login']);
    const keys = logins.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('stops after the bounded attempts and throws the 429 with its Retry-After', async () => {
    const clock = manualClock(Date.UTC(2030, 0, 1, 0, 0, 10));
    server = await startTestServer({ DJCAST_LOGIN_MAX_FAILURES: '1', DJCAST_LOGIN_WINDOW_SECONDS: '60' }, { clock: clock.now });
    const email = uniqueEmail();
    const setup = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, retries: 0 });
    await setup.auth.register({ email, password: PASSWORD });
    await caught(setup.auth.login({ email, password: 'wrong-password!' }));

    const { waits, sleep } = fakeSleep(); // time stands still: every attempt is limited
    const client = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, sleep, retries: 2 });
    const error = (await caught(client.auth.login({ email, password: PASSWORD }))) as DjcastApiError;
    expect(error).toBeInstanceOf(DjcastApiError);
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(50);
    expect(waits).toEqual([50_000, 50_000]);
  });

  it('does not wait out a Retry-After longer than maxRetryAfterMs', async () => {
    // 10 s into the default 15-minute window: Retry-After is 890 s, far beyond the 60 s ceiling.
    const clock = manualClock(Date.UTC(2030, 0, 1, 0, 0, 10));
    server = await startTestServer({ DJCAST_LOGIN_MAX_FAILURES: '1' }, { clock: clock.now });
    const email = uniqueEmail();
    const client = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, ...fakeSleep() });
    await client.auth.register({ email, password: PASSWORD });
    await caught(client.auth.login({ email, password: 'wrong-password!' }));
    const { waits, sleep } = fakeSleep();
    const limited = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, sleep });
    const error = (await caught(limited.auth.login({ email, password: PASSWORD }))) as DjcastApiError;
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(890);
    expect(waits).toEqual([]);
  });

  it('retries a GET through 503s with exponential backoff and jitter', async () => {
    server = await startTestServer();
    const email = uniqueEmail();
    const { waits, sleep } = fakeSleep();
    const client = createDjcastClient({
      baseUrl: server.baseUrl,
      fetch: failingFirst(server, 2),
      sleep,
      retries: 3,
      credentials: { email, password: PASSWORD },
      retryPolicy: { minDelayMs: 100, random: () => 0.5 },
    });
    await createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch }).auth.register({ email, password: PASSWORD });
    // The lazy login (a POST with an Idempotency-Key) takes both faults; /v1/me then goes straight through.
    const me = await client.me();
    expect(me.email).toBe(email);
    // Equal jitter: step/2 + random * step/2, the step doubling from 100 ms.
    expect(waits).toEqual([75, 150]);
  });

  it('resends a POST with the same Idempotency-Key after a 503, honouring Retry-After', async () => {
    server = await startTestServer();
    const email = uniqueEmail();
    const owner = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch });
    await owner.auth.register({ email, password: PASSWORD });
    const tokens = await owner.auth.login({ email, password: PASSWORD });

    const { waits, sleep } = fakeSleep();
    const client = createDjcastClient({
      baseUrl: server.baseUrl,
      fetch: failingFirst(server, 1, { retryAfter: '2' }),
      sleep,
      token: tokens.access_token,
    });
    const before = server.sent.length;
    const stream = await client.streams.create({ name: 'retry me', source_url: server.sourceUrl });
    expect(stream.name).toBe('retry me');
    expect(waits).toEqual([2000]);
    const posts = server.sent.slice(before);
    expect(posts).toHaveLength(2);
    expect(posts[1]!.headers.get('idempotency-key')).toBe(posts[0]!.headers.get('idempotency-key'));
    expect((await client.streams.list()).data).toHaveLength(1);
  });

  it('gives up after the bounded attempts and throws the last 503', async () => {
    server = await startTestServer();
    const { waits, sleep } = fakeSleep();
    const client = createDjcastClient({ baseUrl: server.baseUrl, fetch: failingFirst(server, 10), sleep, retries: 2 });
    const error = (await caught(client.health())) as DjcastApiError;
    expect(error.status).toBe(503);
    expect(error.code).toBe('unavailable');
    expect(error.requestId).toBe('req_injected');
    expect(waits).toHaveLength(2);
  });

  it('never replays a token refresh: a 503 on /v1/auth/refresh surfaces at once', async () => {
    server = await startTestServer();
    const email = uniqueEmail();
    const setup = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch });
    await setup.auth.register({ email, password: PASSWORD });
    const tokens = await setup.auth.login({ email, password: PASSWORD });

    const { waits, sleep } = fakeSleep();
    const client = createDjcastClient({
      baseUrl: server.baseUrl,
      fetch: failingFirst(server, 1),
      sleep,
      refreshToken: tokens.refresh_token,
    });
    const error = (await caught(client.auth.refresh())) as DjcastApiError;
    expect(error.status).toBe(503);
    expect(waits).toEqual([]);
    // The refresh token was never processed, so it still works.
    expect((await setup.auth.refresh(tokens.refresh_token)).refresh_token).not.toBe(tokens.refresh_token);
  });

  it('retries a refused connection and then throws DjcastConnectionError', async () => {
    const port = await closedPort();
    const { waits, sleep } = fakeSleep();
    const client = createDjcastClient({ baseUrl: `http://127.0.0.1:${port}`, sleep, retries: 2 });
    const error = (await caught(client.health())) as DjcastConnectionError;
    expect(error).toBeInstanceOf(DjcastConnectionError);
    expect(error.reason).toBe('ECONNREFUSED');
    expect(error.attempts).toBe(3);
    expect(error.message).toBe(`Could not reach the djcast API at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(waits).toHaveLength(2);
  });

  it('times out an attempt that hangs', async () => {
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      retries: 0,
      timeoutMs: 50,
      // A server that accepted the request and never answers.
      fetch: (request) =>
        new Promise<Response>((_resolve, reject) =>
          request.signal.addEventListener('abort', () => reject(request.signal.reason)),
        ),
    });
    const error = (await caught(client.health())) as DjcastConnectionError;
    expect(error).toBeInstanceOf(DjcastConnectionError);
    expect(error.reason).toBe('TimeoutError');
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
