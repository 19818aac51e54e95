import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, signUp, type TestApp } from '../../../test/harness.js';

describe.each(DIALECTS)('operations endpoints on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t.close());

  it('/healthz reports the version and which backend is live for each concern', async () => {
    const res = await t.request('GET', '/healthz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; backends: Record<string, string> };
    expect(body.status).toBe('ok');
    expect(body.backends.database).toBe(dialect);
    expect(body.backends.storage).toBe('local');
    expect(body.backends.mail).toBe('outbox');
  });

  it('/readyz checks the database', async () => {
    const res = await t.request('GET', '/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: true } });
  });

  it('/metrics exposes request counts, latency and pool usage', async () => {
    const dj = await signUp(t);
    await t.request('GET', '/v1/streams', { token: dj.token });
    const text = await (await t.request('GET', '/metrics')).text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/streams",status_code="200"\} 1/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="[0-9.]+",method="GET",route="\/v1\/streams",status_code="200"\}/,
    );
    expect(text).toMatch(/^db_connection_pool_usage [0-9.]+$/m);
  });

  it('serves the OpenAPI document and the API reference', async () => {
    const doc = (await (await t.request('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/auth/register');
    const docs = await t.request('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('/openapi.json');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await t.request('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('readiness when the database is gone', () => {
  it('/readyz answers 503', async () => {
    const t = await createTestApp('sqlite');
    await t.container.db.close();
    const res = await t.request('GET', '/readyz');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe('not_ready');
    await t.close();
  });
});

describe('request body limits', () => {
  it('refuses a JSON body over 1 MiB with a 413 problem', async () => {
    const t = await createTestApp('sqlite');
    const res = await t.request('POST', '/v1/auth/register', {
      body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string; limit_bytes: number }).limit_bytes).toBe(1024 * 1024);
    await t.close();
  });
});
