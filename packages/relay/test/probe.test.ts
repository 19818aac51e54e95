import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSource, SourceProbeError, type SourceProbeReason } from '../src/probe.js';
import type { LookupFunction } from '../src/source-http.js';
import { type FakeShoutcast, startFakeShoutcast, startRawServer } from './fake-shoutcast.js';

async function probeError(promise: Promise<unknown>): Promise<SourceProbeError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceProbeError);
    return err as SourceProbeError;
  }
  throw new Error('expected probeSource to fail');
}

function expectReason(err: SourceProbeError, reason: SourceProbeReason, message: RegExp) {
  expect(err.reason).toBe(reason);
  expect(err.message).toMatch(message);
}

describe('probeSource against a Shoutcast v1 lookalike (ICY 200 OK)', () => {
  let v1: FakeShoutcast;
  beforeAll(async () => {
    v1 = await startFakeShoutcast({ version: 1, listeners: 4, bitrateKbps: 192, title: 'DJ Foo - Live, Loud, and Proud' });
  });
  afterAll(() => v1.close());

  it('recognises the server, reads headers and /7.html', async () => {
    const result = await probeSource(v1.url('/;'), { allowPrivate: true, timeoutMs: 5000 });
    expect(result).toEqual({
      url: v1.url('/;'),
      kind: 'shoutcast1',
      statsUrl: `http://127.0.0.1:${v1.port}/7.html`,
      contentType: 'audio/mpeg',
      bitrateKbps: 192,
      name: 'Fake DJ, Live',
      stats: { listeners: 4, bitrateKbps: 192, currentTrack: 'DJ Foo - Live, Loud, and Proud', contentType: null },
    });
    const stream = v1.requests.find((r) => r.path === '/;')!;
    expect(stream.headers['user-agent']).toBe('djcast-relay/0.1');
    const stats = v1.requests.find((r) => r.path === '/7.html')!;
    expect(stats.headers['user-agent']).toMatch(/^Mozilla\//); // v1 only serves 7.html to browsers
  });
});

describe('probeSource against a Shoutcast v2 lookalike', () => {
  let v2: FakeShoutcast;
  beforeAll(async () => {
    v2 = await startFakeShoutcast({ version: 2, listeners: 11, title: "Rock 'n' Roll, Part 2", password: 'let-me-in' });
  });
  afterAll(() => v2.close());

  it('recognises DNAS 2 and derives /stats?sid=1&json=1', async () => {
    const result = await probeSource(v2.url(), { allowPrivate: true, password: 'let-me-in', username: 'dj', timeoutMs: 5000 });
    expect(result.kind).toBe('shoutcast2');
    expect(result.statsUrl).toBe(`http://127.0.0.1:${v2.port}/stats?sid=1&json=1`);
    expect(result.contentType).toBe('audio/mpeg');
    expect(result.bitrateKbps).toBe(128);
    expect(result.stats).toEqual({
      listeners: 11,
      bitrateKbps: 128,
      currentTrack: "Rock 'n' Roll, Part 2",
      contentType: 'audio/mpeg',
    });
    const stream = v2.requests.filter((r) => r.path === '/stream').at(-1)!;
    expect(stream.headers.authorization).toBe(`Basic ${Buffer.from('dj:let-me-in').toString('base64')}`);
    // Credentials are for the stream only, never sent to the stats page.
    expect(v2.requests.filter((r) => r.path.startsWith('/stats')).every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('reports unauthorized without or with the wrong password', async () => {
    expectReason(
      await probeError(probeSource(v2.url(), { allowPrivate: true, timeoutMs: 5000 })),
      'unauthorized',
      /401 Unauthorized: the stream needs a username and password/,
    );
    expectReason(
      await probeError(probeSource(v2.url(), { allowPrivate: true, username: 'dj', password: 'nope', timeoutMs: 5000 })),
      'unauthorized',
      /the username or password was rejected/,
    );
  });

  it('follows a redirect to the stream, without sending the password to another origin', async () => {
    const redirect = await startRawServer(`HTTP/1.1 302 Found\r\nLocation: ${v2.url()}\r\nContent-Length: 0\r\n\r\n`);
    try {
      // v2 listens on another port: another origin, so the credentials stay behind and v2 asks for them.
      const err = await probeError(
        probeSource(`http://127.0.0.1:${redirect.port}/old-mount`, {
          allowPrivate: true,
          password: 'let-me-in',
          timeoutMs: 5000,
        }),
      );
      expectReason(
        err,
        'unauthorized',
        new RegExp(`127\\.0\\.0\\.1:${v2.port} answered 401 Unauthorized: the username or password was rejected`),
      );
      const result = await probeSource(`${v2.url()}`, { allowPrivate: true, password: 'let-me-in', timeoutMs: 5000 });
      expect(result.kind).toBe('shoutcast2');
    } finally {
      await redirect.close();
    }
  });
});

describe('probeSource failures', () => {
  it('not_audio for a web page', async () => {
    const html = await startRawServer(
      'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 13\r\n\r\n<html></html>',
    );
    try {
      expectReason(
        await probeError(probeSource(`http://127.0.0.1:${html.port}/`, { allowPrivate: true, timeoutMs: 5000 })),
        'not_audio',
        /Content-Type text\/html and no icy-\* headers/,
      );
    } finally {
      await html.close();
    }
  });

  it('unreachable with the connection error for a closed port', async () => {
    const closed = await startRawServer(null);
    const port = closed.port;
    await closed.close();
    expectReason(
      await probeError(probeSource(`http://127.0.0.1:${port}/live`, { allowPrivate: true, timeoutMs: 5000 })),
      'unreachable',
      new RegExp(`could not reach 127.0.0.1:${port}: .*ECONNREFUSED`),
    );
  });

  it('unreachable, with a hint, for a mount that is not live', async () => {
    const missing = await startRawServer(
      'HTTP/1.0 404 File Not Found\r\nServer: Icecast 2.4.4\r\nContent-Type: text/html\r\n\r\n',
    );
    try {
      expectReason(
        await probeError(probeSource(`http://127.0.0.1:${missing.port}/live`, { allowPrivate: true, timeoutMs: 5000 })),
        'unreachable',
        /404 File Not Found \(no source is connected/,
      );
    } finally {
      await missing.close();
    }
  });

  it('timeout when the server accepts but never answers, within the budget', async () => {
    const silent = await startRawServer(null);
    try {
      const started = Date.now();
      expectReason(
        await probeError(probeSource(`http://127.0.0.1:${silent.port}/live`, { allowPrivate: true, timeoutMs: 400 })),
        'timeout',
        /did not answer within 400 ms/,
      );
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await silent.close();
    }
  });

  it('bad_url for anything that is not an http(s) URL without credentials', async () => {
    expectReason(await probeError(probeSource('ftp://example.com/live')), 'bad_url', /http:\/\/ or https:\/\//);
    expectReason(await probeError(probeSource('not a url')), 'bad_url', /not a valid URL/);
    expectReason(await probeError(probeSource('http://dj:pw@example.com/live')), 'bad_url', /own fields/);
    expectReason(await probeError(probeSource('file:///etc/passwd')), 'bad_url', /file:/);
  });

  it('unreachable when wrong protocol bytes come back', async () => {
    const junk = await startRawServer('SSH-2.0-OpenSSH_9.2\r\n\r\n');
    try {
      expectReason(
        await probeError(probeSource(`http://127.0.0.1:${junk.port}/`, { allowPrivate: true, timeoutMs: 5000 })),
        'unreachable',
        /not an HTTP or ICY response/,
      );
    } finally {
      await junk.close();
    }
  });
});

describe('probeSource lookup', () => {
  let v1: FakeShoutcast;
  beforeAll(async () => {
    v1 = await startFakeShoutcast({ version: 1, listeners: 1 });
  });
  afterAll(() => v1.close());

  it('refuses loopback by default, literal or resolved, with reason not_allowed', async () => {
    expectReason(
      await probeError(probeSource(v1.url('/;'), { timeoutMs: 5000 })),
      'not_allowed',
      /127\.0\.0\.1 is a private, loopback/,
    );
    const toLoopback: LookupFunction = (_hostname, options, callback) =>
      options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
    expectReason(
      await probeError(probeSource(`http://radio.djcast.test:${v1.port}/;`, { lookup: toLoopback, timeoutMs: 5000 })),
      'not_allowed',
      /radio\.djcast\.test resolves to 127\.0\.0\.1/,
    );
  });

  it('uses the lookup to resolve host names', async () => {
    const seen: string[] = [];
    const fakeDns: LookupFunction = (hostname, options, callback) => {
      seen.push(hostname);
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    };
    const result = await probeSource(`http://radio.djcast.test:${v1.port}/;`, {
      allowPrivate: true,
      lookup: fakeDns,
      timeoutMs: 5000,
    });
    expect(result.kind).toBe('shoutcast1');
    expect(seen).toContain('radio.djcast.test');
  });
});
