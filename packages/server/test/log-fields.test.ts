/**
 * Every line the server logs for a sequence of requests fits the Elasticsearch
 * index template shipped in deploy/logging (so Kibana indexes it, and finds
 * request_id, user_id and error types as exact keywords), and a W3C
 * traceparent's trace id is on every line of its request: the access log, the
 * lines services write while handling it, and the error line of a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingLauncher, createTestApp, signUp, startFakeIcecast, type FakeSource, type TestApp } from './harness.js';
import { mappingProblems, mappings, template } from '@djcast/relay/log-template';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = (span: string) => `00-${TRACE}-${span}-01`;

describe('log lines and the Elasticsearch index template', () => {
  let t: TestApp;
  let source: FakeSource;
  const launcher = new RecordingLauncher();
  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp('sqlite', {}, { relayLauncher: launcher });
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  it('ships an index template for djcast-logs-* with ids, events and error types as keywords and ECS aliases', () => {
    expect(template.index_patterns).toEqual(['djcast-logs-*']);
    const p = mappings.properties!;
    for (const field of ['request_id', 'user_id', 'trace_id', 'error_type', 'event', 'stream_id', 'relay_worker_id']) {
      expect(p[field]?.type, field).toBe('keyword');
    }
    expect(p.user!.properties!.id).toEqual({ type: 'alias', path: 'user_id' });
    expect(p.trace!.properties!.id).toEqual({ type: 'alias', path: 'trace_id' });
    expect(p.error!.properties!.type).toEqual({ type: 'alias', path: 'error_type' });
    expect(p.error!.properties!.stack_trace).toEqual({ type: 'alias', path: 'err.stack' });
    expect(p['@timestamp']).toEqual({ type: 'alias', path: 'timestamp' });
  });

  it('every line of a request sequence fits the template, and a traceparent marks every line of its request', async () => {
    const dj = await signUp(t);
    await t.request('GET', '/v1/streams', { token: dj.token });
    await t.request('GET', '/v1/streams/str_0000000000000000000000zzzz', { token: dj.token });
    await t.request('GET', '/v1/streams');
    await t.request('POST', '/v1/auth/login', { body: { email: 'nobody@example.com', password: 'not-the-password-1!' } });
    await t.request('GET', '/metrics');

    // A request that logs from inside the service (the relay launch) besides its access line.
    const created = await t.request('POST', '/v1/streams', {
      token: dj.token,
      headers: { traceparent: traceparent('00f067aa0ba902b7'), 'x-request-id': 'req-traced-create' },
      body: { name: 'traced', source_url: `${source.url}/live` },
    });
    expect(created.status).toBe(201);
    const streamId = ((await created.json()) as { id: string }).id;
    const spec = launcher.specFor(streamId);
    await t.request('POST', `/v1/relays/${spec.relayId}/heartbeat`, {
      token: spec.relayToken,
      body: { state: 'live', listener_count: 2, relay_connections: 1, cpu_usage: 3.5 },
    });
    await t.request('DELETE', `/v1/streams/${streamId}`, { token: dj.token });

    // An unexpected error: its line has the stack, the type and the request's context and trace.
    await t.container.db.kysely.schema.dropTable('playlists').execute();
    const failed = await t.request('GET', '/v1/playlists', {
      token: dj.token,
      headers: { traceparent: traceparent('b7ad6b7169203331'), 'x-request-id': 'req-traced-500' },
    });
    // An invalid traceparent is ignored, not an error.
    await t.request('GET', '/healthz', { headers: { traceparent: 'not-a-traceparent', 'x-request-id': 'req-bad-trace' } });

    expect(t.logs.length).toBeGreaterThan(10);
    for (const line of t.logs) expect(mappingProblems(line), JSON.stringify(line)).toEqual([]);

    const createLines = t.logs.filter((l) => l.request_id === 'req-traced-create');
    expect(createLines.length).toBeGreaterThan(1);
    for (const line of createLines) expect(line, JSON.stringify(line)).toMatchObject({ trace_id: TRACE });
    expect(createLines.find((l) => l.message === 'request')).toMatchObject({ span_id: '00f067aa0ba902b7', status_code: 201 });

    if (failed.status === 500) {
      const lines = t.logs.filter((l) => l.request_id === 'req-traced-500');
      const error = lines.find((l) => l.level === 'error');
      expect(error).toMatchObject({ trace_id: TRACE, user_id: dj.userId, path: '/v1/playlists', error_type: expect.any(String) });
      expect((error!.err as { stack: string }).stack).toMatch(/playlists/);
      for (const line of lines) expect(line).toMatchObject({ trace_id: TRACE });
    } else {
      throw new Error(`expected the dropped table to fail GET /v1/playlists, got ${failed.status}`);
    }
    const untraced = t.logs.filter((l) => l.request_id === 'req-bad-trace');
    expect(untraced.length).toBe(1);
    expect(untraced[0], JSON.stringify(untraced[0])).not.toHaveProperty('trace_id');
    // Lines outside any request carry no request id of another one.
    expect(t.logs.filter((l) => l.message !== 'request' && l.request_id === undefined).every((l) => !('trace_id' in l))).toBe(
      true,
    );
  });

  it('the template check is not a rubber stamp', () => {
    expect(mappingProblems({ status_code: '200' })).toEqual(['status_code: integer in the template, "200" in the line']);
    expect(mappingProblems({ latency: 3 })).toEqual(['latency: not in the template (number)']);
    expect(mappingProblems({ 'error.type': 'x' })).toEqual([]);
    expect(mappingProblems({ error: { type: 'x' } })).toEqual([
      'error.type: is an alias of error_type; write error_type instead',
    ]);
    expect(mappingProblems({ status_code: [200, '204'] })).toEqual(['status_code: integer in the template, "204" in the line']);
    expect(mappingProblems({ timestamp: 'yesterday' })).toEqual(['timestamp: date in the template, "yesterday" in the line']);
  });
});
