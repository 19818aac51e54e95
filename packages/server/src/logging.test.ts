import { afterEach, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD, createTestApp, signUp, uniqueEmail, type TestApp } from '../test/harness.js';

describe('structured JSON logs', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('logs every request with timestamp, request_id, user_id, method, path, status_code and latency_ms', async () => {
    t = await createTestApp('sqlite');
    const dj = await signUp(t);
    const res = await t.request('GET', '/v1/streams', { token: dj.token, headers: { 'x-request-id': 'trace-abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    const line = t.logs.find((l) => l.request_id === 'trace-abc-123');
    expect(line).toMatchObject({ method: 'GET', path: '/v1/streams', status_code: 200, user_id: dj.userId, level: 'info' });
    expect(typeof line!.latency_ms).toBe('number');
    expect(new Date(line!.timestamp as string).toISOString()).toBe(line!.timestamp);
  });

  it('generates a request id when none (or a malformed one) is sent, and echoes it in errors', async () => {
    t = await createTestApp('sqlite');
    const res = await t.request('GET', '/v1/streams', { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^req_[0-9a-z]{26}$/);
    expect(((await res.json()) as { request_id: string }).request_id).toBe(id);
    expect(t.logs.some((l) => l.request_id === id && l.status_code === 401 && l.user_id === null)).toBe(true);
  });

  it('logs an unexpected error with its stack and context, and answers a 500 that leaks nothing', async () => {
    t = await createTestApp('sqlite');
    const dj = await signUp(t);
    await t.container.db.kysely.schema.dropTable('streams').execute();
    const res = await t.request('GET', '/v1/streams', { token: dj.token });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.code).toBe('internal');
    expect(JSON.stringify(body)).not.toMatch(/streams|sqlite|at .*\.ts/i);
    const error = t.logs.find((l) => l.level === 'error');
    expect(error).toMatchObject({
      request_id: body.request_id,
      user_id: dj.userId,
      path: '/v1/streams',
      error_type: expect.any(String),
    });
    expect((error!.err as { stack: string }).stack).toMatch(/no such table: streams/);
  });

  it('never writes passwords, tokens or secrets to the log', async () => {
    t = await createTestApp('sqlite');
    const email = uniqueEmail();
    await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
    const login = (await (await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } })).json()) as {
      access_token: string;
      refresh_token: string;
    };
    await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: login.refresh_token } });
    const created = (await (
      await t.request('POST', '/v1/tokens', { token: login.access_token, body: { name: 'ci', scopes: ['streams:read'] } })
    ).json()) as { token: string };
    await t.request('GET', '/v1/streams', { token: created.token });
    await t.request('POST', '/v1/auth/login', { body: { email, password: 'wrong-secret-password!' } });
    const all = t.rawLogs.join('\n');
    expect(t.rawLogs.length).toBeGreaterThan(4);
    for (const secret of [STRONG_PASSWORD, 'wrong-secret-password!', login.access_token, login.refresh_token, created.token]) {
      expect(all).not.toContain(secret);
    }
  });
});
