import { describe, expect, it } from 'vitest';
import { type HeartbeatBody, type HeartbeatResult, HeartbeatSender, heartbeatUrl } from './heartbeat.js';

const body = (state: HeartbeatBody['state'], media_sequence = 0): HeartbeatBody => ({
  state,
  listener_count: 3,
  relay_connections: 2,
  cpu_usage: 1.5,
  segment_lag_seconds: 2,
  current_track: 'A - B',
  bitrate_kbps: 128,
  media_sequence,
  source_kind: 'icecast',
  ad_breaks_taken: [],
  content_type: 'audio/mpeg',
});

interface Call {
  url: string;
  init: RequestInit;
}

function recordingFetch(respond: (call: Call, n: number) => Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(url), init: init ?? {} };
    calls.push(call);
    return respond(call, calls.length);
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe('heartbeatUrl', () => {
  it('builds the relay heartbeat route', () => {
    expect(heartbeatUrl('http://api.test/', 'rly_1')).toBe('http://api.test/v1/relays/rly_1/heartbeat');
    expect(heartbeatUrl('https://api.test/base', 'a/b')).toBe('https://api.test/base/v1/relays/a%2Fb/heartbeat');
  });
});

describe('HeartbeatSender', () => {
  it('POSTs JSON with the bearer token, in order', async () => {
    const { calls, fetch } = recordingFetch(async () => new Response(null, { status: 204 }));
    const results: HeartbeatResult[] = [];
    const sender = new HeartbeatSender({
      apiUrl: 'http://api.test',
      relayId: 'rly_1',
      token: 'tok',
      fetch,
      timeoutMs: 1000,
      onResult: (r) => results.push(r),
    });
    sender.enqueue(body('starting'), 'state');
    sender.enqueue(body('live', 4), 'state');
    await sender.drain(1000);
    expect(calls.map((c) => c.url)).toEqual([
      'http://api.test/v1/relays/rly_1/heartbeat',
      'http://api.test/v1/relays/rly_1/heartbeat',
    ]);
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.init.headers).toMatchObject({ Authorization: 'Bearer tok', 'Content-Type': 'application/json' });
    expect(calls.map((c) => (JSON.parse(String(c.init.body)) as HeartbeatBody).state)).toEqual(['starting', 'live']);
    expect(results.map((r) => [r.ok, r.status])).toEqual([
      [true, 204],
      [true, 204],
    ]);
  });

  it('reports HTTP errors and network errors instead of throwing, and keeps going', async () => {
    const { fetch } = recordingFetch(async (_call, n) => {
      if (n === 1) return new Response('nope', { status: 503 });
      if (n === 2) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      return new Response(null, { status: 204 });
    });
    const results: HeartbeatResult[] = [];
    const sender = new HeartbeatSender({
      apiUrl: 'http://api.test',
      relayId: 'r',
      token: 't',
      fetch,
      timeoutMs: 1000,
      onResult: (r) => results.push(r),
    });
    sender.enqueue(body('live'), 'state');
    sender.enqueue(body('reconnecting'), 'state');
    sender.enqueue(body('offline'), 'state');
    await sender.drain(1000);
    expect(results.map((r) => ({ ok: r.ok, status: r.status, error: r.error }))).toEqual([
      { ok: false, status: 503, error: 'HTTP 503' },
      { ok: false, status: undefined, error: 'fetch failed (ECONNREFUSED)' },
      { ok: true, status: 204, error: undefined },
    ]);
  });

  it('skips a periodic tick while another heartbeat is pending, never a state change', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls, fetch } = recordingFetch(async () => {
      await gate;
      return new Response(null, { status: 204 });
    });
    const sender = new HeartbeatSender({
      apiUrl: 'http://api.test',
      relayId: 'r',
      token: 't',
      fetch,
      timeoutMs: 5000,
      onResult: () => {},
    });
    sender.enqueue(body('live', 1), 'tick');
    sender.enqueue(body('live', 2), 'tick'); // dropped: says nothing new
    sender.enqueue(body('reconnecting', 2), 'state');
    sender.enqueue(body('offline', 2), 'final');
    release();
    await sender.drain(1000);
    expect(calls.map((c) => (JSON.parse(String(c.init.body)) as HeartbeatBody).state)).toEqual([
      'live',
      'reconnecting',
      'offline',
    ]);
  });

  it('times out a hanging API and drain() is bounded', async () => {
    const fetch = ((_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      })) as typeof globalThis.fetch;
    const results: HeartbeatResult[] = [];
    const sender = new HeartbeatSender({
      apiUrl: 'http://api.test',
      relayId: 'r',
      token: 't',
      fetch,
      timeoutMs: 100,
      onResult: (r) => results.push(r),
    });
    sender.enqueue(body('live'), 'state');
    await sender.drain(2000);
    expect(results).toHaveLength(1);
    expect(results[0]!.ok).toBe(false);
    expect(results[0]!.error).toMatch(/timeout|aborted/i);
  });
});
