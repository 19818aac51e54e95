// /metrics on the API server: labels are route templates (never raw paths, so
// ids do not explode the series count), the job queue's gauges, the transcode
// histogram, and the optional scrape token.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TranscodeError, type Transcoder } from '../src/adapters/transcoder/types.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { createMetrics, HTTP_DURATION_BUCKETS, HttpRequestMetrics, timedTranscoder } from '../src/metrics.js';
import { DIALECTS, createTestApp, manualClock, signUp, type TestApp } from './harness.js';

const metricsText = async (t: TestApp, headers: Record<string, string> = {}) => {
  const res = await t.request('GET', '/metrics', { headers });
  expect(res.status).toBe(200);
  return res.text();
};

describe.each(DIALECTS)('/metrics on %s', (dialect) => {
  let t: TestApp;
  const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { clock: clock.now });
  });
  afterAll(() => t.close());

  it('labels requests with the route template, never the raw path', async () => {
    const dj = await signUp(t);
    const ids = ['str_0000000000000000000000aaaa', 'str_0000000000000000000000bbbb'];
    for (const id of ids) expect((await t.request('GET', `/v1/streams/${id}`, { token: dj.token })).status).toBe(404);
    const unknown = `/v1/no-such-thing/${'x'.repeat(12)}`;
    expect((await t.request('GET', unknown)).status).toBe(404);
    const text = await metricsText(t);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/streams\/:id",status_code="404"\} 2\n/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1\n/);
    for (const id of ids) expect(text).not.toContain(id);
    expect(text).not.toContain('no-such-thing');
    // Every route label is a declared template or "unmatched".
    const routes = new Set([...text.matchAll(/http_requests_total\{[^}]*route="([^"]*)"/g)].map((m) => m[1]!));
    for (const route of routes) expect(route === 'unmatched' || /^\/[A-Za-z0-9/:._{}-]*$/.test(route), route).toBe(true);
  });

  it('reports the job queue: depth and age of the oldest due job, by kind, and 0 for idle kinds', async () => {
    let text = await metricsText(t);
    expect(text).toMatch(/^job_queue_depth\{kind="upload.process"\} 0$/m);
    expect(text).toMatch(/^job_queue_oldest_age_seconds\{kind="upload.process"\} 0$/m);
    const now = clock.now();
    const row = (id: string, state: 'queued' | 'running' | 'done', runAfterMsAgo: number) => ({
      id,
      kind: 'upload.process',
      payload: '{}',
      state,
      attempts: 0,
      max_attempts: 3,
      run_after: new Date(now.getTime() - runAfterMsAgo).toISOString(),
      locked_by: null,
      locked_until: null,
      last_error: null,
      owner_id: null,
      resource_id: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    });
    await t.container.db.kysely
      .insertInto('jobs')
      .values([
        row('job_metrics_a', 'queued', 90_000),
        row('job_metrics_b', 'queued', 30_000),
        row('job_metrics_c', 'running', 10_000),
        row('job_metrics_d', 'done', 500_000),
        row('job_metrics_e', 'queued', -60_000), // not due yet
      ])
      .execute();
    text = await metricsText(t);
    expect(text).toMatch(/^job_queue_depth\{kind="upload.process"\} 3$/m);
    expect(text).toMatch(/^job_queue_running\{kind="upload.process"\} 1$/m);
    expect(text).toMatch(/^job_queue_oldest_age_seconds\{kind="upload.process"\} 90$/m);
    clock.advance(10_000);
    expect(await metricsText(t)).toMatch(/^job_queue_oldest_age_seconds\{kind="upload.process"\} 100$/m);
    await t.container.db.kysely.deleteFrom('jobs').where('id', 'like', 'job_metrics_%').execute();
  });

  it('exposes the pool usage and the transcode histogram', async () => {
    const text = await metricsText(t);
    expect(text).toMatch(/^db_connection_pool_usage [0-9.]+$/m);
    expect(text).toContain('# TYPE transcode_duration_seconds histogram');
  });
});

describe('the scrape token', () => {
  let t: TestApp;
  const token = 'scrape-token-0123456789abcdef';
  beforeAll(async () => {
    t = await createTestApp('sqlite', { DJCAST_METRICS_TOKEN: token });
  });
  afterAll(() => t.close());

  it('refuses a scrape without the token or with a wrong one, with a 401 problem', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: token },
    ]) {
      const res = await t.request('GET', '/metrics', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(await res.text()).not.toContain('http_requests_total');
    }
  });

  it('serves the metrics with the token', async () => {
    const text = await metricsText(t, { authorization: `Bearer ${token}` });
    expect(text).toContain('http_requests_total');
  });

  it('leaves /healthz open', async () => {
    expect((await t.request('GET', '/healthz')).status).toBe(200);
  });
});

describe('timedTranscoder', () => {
  it('observes every transcode, by outcome', async () => {
    const metrics = createMetrics({ poolUsage: () => 0, defaultMetrics: false });
    const result = { playlistPath: '/x/index.m3u8', segments: [] };
    let fail: Error | null = null;
    const inner: Transcoder = {
      kind: 'ffmpeg',
      toHls: async () => {
        if (fail) throw fail;
        return result;
      },
    };
    const timed = timedTranscoder(inner, metrics.transcodeDuration);
    await expect(timed.toHls(Readable.from([]), '/x', { segmentSeconds: 6 })).resolves.toBe(result);
    fail = new TranscodeError('bad_input', 'not audio');
    await expect(timed.toHls(Readable.from([]), '/x', { segmentSeconds: 6 })).rejects.toBe(fail);
    fail = new Error('boom');
    await expect(timed.toHls(Readable.from([]), '/x', { segmentSeconds: 6 })).rejects.toBe(fail);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^transcode_duration_seconds_count\{outcome="ok"\} 1$/m);
    expect(text).toMatch(/^transcode_duration_seconds_count\{outcome="bad_input"\} 1$/m);
    expect(text).toMatch(/^transcode_duration_seconds_count\{outcome="error"\} 1$/m);
  });
});

describe('HttpRequestMetrics', () => {
  it("exposes what prom-client's Counter and Histogram expose for the same requests", async () => {
    const ours = new Registry();
    const http = new HttpRequestMetrics(ours);
    const reference = new Registry();
    const labelNames = ['method', 'route', 'status_code'] as const;
    const counter = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests served, by method, route and status code',
      labelNames,
      registers: [reference],
    });
    const histogram = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency in seconds, by method, route and status code',
      labelNames,
      buckets: [...HTTP_DURATION_BUCKETS],
      registers: [reference],
    });
    // Bucket edges, between them, above the last, and several series.
    const requests: [string, string, number, number][] = [
      ['GET', '/v1/streams/:id', 200, 0.005],
      ['GET', '/v1/streams/:id', 200, 0.0051],
      ['GET', '/v1/streams/:id', 404, 0.3],
      ['POST', '/v1/uploads/audio', 201, 12],
      ['GET', 'unmatched', 404, 0],
      ['GET', '/v1/streams/:id', 200, 10],
    ];
    for (const [method, route, status, seconds] of requests) {
      http.record(method, route, status, seconds);
      const labels = { method, route, status_code: String(status) };
      counter.inc(labels);
      histogram.observe(labels, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/uploads/audio",status_code="201"} 1\n',
    );
    ours.resetMetrics();
    expect(await ours.metrics()).not.toContain('route=');
  });
});
