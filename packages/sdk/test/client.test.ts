import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDjcastClient, DjcastApiError, isDjcastApiError, type DjcastClientOptions, type TokenPair } from '../src/index.js';
import { manualClock, PASSWORD, startTestServer, uniqueEmail, type TestServer } from './support/server.js';

const DAY_MS = 24 * 60 * 60 * 1000;

async function caught(promise: Promise<unknown>): Promise<DjcastApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DjcastApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('SDK against the real server', () => {
  // The server's clock: logging in "two days ago" yields an access token that
  // is already expired (24 h TTL) while its refresh token is still valid.
  const clock = manualClock();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({}, { clock: clock.now });
  });
  afterAll(async () => {
    await server.close();
  });

  const newClient = (extra: Partial<DjcastClientOptions> = {}) =>
    createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, ...extra });

  async function registered(): Promise<string> {
    const email = uniqueEmail();
    await newClient().auth.register({ email, password: PASSWORD });
    return email;
  }

  /** Logs in while the server clock reads two days ago: the access token is dead on arrival. */
  async function expiredLogin(email: string): Promise<TokenPair> {
    clock.set(Date.now() - 2 * DAY_MS);
    try {
      return await newClient().auth.login({ email, password: PASSWORD });
    } finally {
      clock.set(Date.now());
    }
  }

  it('registers, logs in and reads /v1/me; the client keeps the tokens and reports them', async () => {
    const email = uniqueEmail();
    const seen: TokenPair[] = [];
    const client = newClient({ onTokens: (t) => void seen.push(t) });

    const account = await client.auth.register({ email, password: PASSWORD, display_name: 'DJ Test' });
    expect(account.user_id).toMatch(/^usr_/);
    expect(account.role).toBe('dj');

    const tokens = await client.auth.login({ email, password: PASSWORD });
    expect(tokens.token_type).toBe('Bearer');
    expect(seen).toEqual([tokens]);
    expect(client.getTokens()).toEqual({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token });

    const me = await client.me();
    expect(me).toMatchObject({ id: account.user_id, email, display_name: 'DJ Test', role: 'dj' });
    expect(me.scopes).toContain('streams:write');

    // The typed raw client is there too, with the same credentials.
    const { data, response } = await client.raw.GET('/v1/me');
    expect(response.status).toBe(200);
    expect(data?.id).toBe(account.user_id);
  });

  it('maps a 409 to DjcastApiError with the code, detail and request id of the problem', async () => {
    const email = await registered();
    const error = await caught(newClient().auth.register({ email, password: PASSWORD }));
    expect(error).toBeInstanceOf(Error);
    expect(isDjcastApiError(error)).toBe(true);
    expect(error.status).toBe(409);
    expect(error.code).toBe('email_taken');
    expect(error.title).toBe('An account with this email already exists');
    expect(error.detail).toMatch(/already exists/);
    expect(error.requestId).toMatch(/^req_/);
    expect(error.problem?.request_id).toBe(error.requestId);
    expect(error.message).toBe(`${error.detail} (email_taken, request ${error.requestId})`);

    // The raw client sees the same problem, and the header carries the same request id.
    const { error: problem, response } = await newClient().raw.POST('/v1/auth/register', { body: { email, password: PASSWORD } });
    expect(response.status).toBe(409);
    expect(problem?.code).toBe('email_taken');
    expect(response.headers.get('x-request-id')).toBe(problem?.request_id);
  });

  it('carries field errors for a 400 validation failure', async () => {
    const error = await caught(newClient().auth.register({ email: 'not-an-email', password: PASSWORD }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.errors.map((e) => e.path)).toContain('email');
  });

  it('turns a non-problem error body into a useful error', async () => {
    const client = createDjcastClient({
      baseUrl: server.baseUrl,
      retries: 0,
      // A proxy in front of the real server answering with its own HTML page.
      fetch: async (request) =>
        new URL(request.url).pathname === '/healthz'
          ? new Response('<html><body>Bad gateway</body></html>', {
              status: 502,
              statusText: 'Bad Gateway',
              headers: { 'content-type': 'text/html' },
            })
          : server.fetch(request),
    });
    const error = await caught(client.health());
    expect(error.status).toBe(502);
    expect(error.code).toBe('http_502');
    expect(error.title).toBe('Bad Gateway');
    expect(error.detail).toBe('HTTP 502 Bad Gateway (the response was not a djcast problem document)');
    expect(error.problem).toBeUndefined();
  });

  it('refreshes an expired access token once, stores the rotated pair and retries the call', async () => {
    const email = await registered();
    const stale = await expiredLogin(email);
    const seen: TokenPair[] = [];
    const client = newClient({
      token: stale.access_token,
      refreshToken: stale.refresh_token,
      onTokens: (t) => void seen.push(t),
    });

    const before = server.sent.length;
    const me = await client.me();
    expect(me.email).toBe(email);

    const calls = server.sent.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual(['GET /v1/me', 'POST /v1/auth/refresh', 'GET /v1/me']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.refresh_token).not.toBe(stale.refresh_token);
    expect(client.getTokens().refreshToken).toBe(seen[0]!.refresh_token);
    // The refresh call carries no Idempotency-Key, so it is never replayed.
    expect(server.sent.slice(before)[1]!.headers.has('idempotency-key')).toBe(false);
  });

  it('shares one refresh between concurrent 401s (a refresh token used twice would revoke the session)', async () => {
    const email = await registered();
    const stale = await expiredLogin(email);
    const seen: TokenPair[] = [];
    const client = newClient({
      token: stale.access_token,
      refreshToken: stale.refresh_token,
      onTokens: (t) => void seen.push(t),
    });

    const before = server.sent.length;
    const results = await Promise.all(Array.from({ length: 5 }, () => client.streams.list()));
    expect(results.every((page) => Array.isArray(page.data))).toBe(true);
    const refreshes = server.sent.slice(before).filter((r) => r.path === '/v1/auth/refresh');
    expect(refreshes).toHaveLength(1);
    expect(seen).toHaveLength(1);
  });

  it('gives up with the 401 when the refresh token was revoked, and logs in again when it holds credentials', async () => {
    const email = await registered();
    const stale = await expiredLogin(email);
    await newClient().auth.logout(stale.refresh_token);

    const tokensOnly = newClient({ token: stale.access_token, refreshToken: stale.refresh_token });
    const error = await caught(tokensOnly.me());
    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_token');

    const withCredentials = newClient({
      token: stale.access_token,
      refreshToken: stale.refresh_token,
      credentials: { email, password: PASSWORD },
    });
    expect((await withCredentials.me()).email).toBe(email);
  });

  it('logs in lazily from credentials on the first call', async () => {
    const email = await registered();
    const seen: TokenPair[] = [];
    const client = newClient({ credentials: { email, password: PASSWORD }, onTokens: (t) => void seen.push(t) });
    const before = server.sent.length;
    expect((await client.me()).email).toBe(email);
    expect(server.sent.slice(before).map((r) => r.path)).toEqual(['/v1/auth/login', '/v1/me']);
    expect(seen).toHaveLength(1);
  });

  it('creates an API token that works on its own, lists it without the secret, and revokes it', async () => {
    const email = await registered();
    const owner = newClient();
    await owner.auth.login({ email, password: PASSWORD });
    const created = await owner.tokens.create({ name: 'ci', scopes: ['streams:read', 'streams:write'] });
    expect(created.token).toMatch(/^djc_/);

    const ci = newClient({ token: created.token });
    const stream = await ci.streams.create({ name: 'Friday set', source_url: server.sourceUrl });
    expect(stream).toMatchObject({
      name: 'Friday set',
      source_url: server.sourceUrl,
      visibility: 'public',
      monetization_enabled: false,
    });
    expect((await ci.streams.get(stream.id)).id).toBe(stream.id);
    const live = await ci.streams.status(stream.id);
    expect(live).toMatchObject({ stream_id: stream.id, playback_url: stream.playback_url });
    expect(live.listener_count).toBeGreaterThanOrEqual(0);
    const updated = await ci.streams.update(stream.id, { name: 'Saturday set', visibility: 'private' });
    expect(updated).toMatchObject({ name: 'Saturday set', visibility: 'private' });

    const listed = await owner.tokens.list();
    expect(listed.map((t) => t.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.token);

    await ci.streams.delete(stream.id);
    expect((await caught(ci.streams.get(stream.id))).code).toBe('not_found');

    await owner.tokens.revoke(created.id);
    const before = server.sent.length;
    const revoked = await caught(ci.streams.list());
    expect(revoked.code).toBe('invalid_token');
    // Nothing to refresh with: exactly one request, no refresh attempt.
    expect(server.sent.slice(before).map((r) => r.path)).toEqual(['/v1/streams']);
  });

  it('walks every page with streams.iterate', async () => {
    const email = await registered();
    const client = newClient({ credentials: { email, password: PASSWORD } });
    const names = ['one', 'two', 'three'];
    for (const name of names) await client.streams.create({ name, source_url: server.sourceUrl });

    const before = server.sent.length;
    const seen: string[] = [];
    for await (const stream of client.streams.iterate({ limit: 2 })) seen.push(stream.name);
    expect(seen).toEqual(['three', 'two', 'one']);
    expect(server.sent.slice(before).filter((r) => r.path === '/v1/streams')).toHaveLength(2);
  });

  it('logout revokes the refresh token and forgets the tokens', async () => {
    const email = await registered();
    const client = newClient();
    const tokens = await client.auth.login({ email, password: PASSWORD });
    await client.auth.logout();
    expect(client.getTokens()).toEqual({ accessToken: undefined, refreshToken: undefined });
    const error = await caught(newClient().auth.refresh(tokens.refresh_token));
    expect(error.code).toBe('invalid_token');
  });

  it('reports health with the server version and live backends', async () => {
    const health = await newClient().health();
    expect(health.status).toBe('ok');
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.backends.database).toBe('sqlite');
  });
});
