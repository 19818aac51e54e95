// Runs inside an unprivileged network namespace (started by
// ssrf-namespace.int.test.ts) where 11.0.0.1 is an ordinary, non-private
// address on the namespace's own loopback. A "public" origin there redirects
// to a secret server on 127.0.0.1; every server-side fetch of a user URL must
// refuse to follow it. Prints one JSON line per case and {"done":true}.
// Postgres is not reachable from inside the namespace: SQLite only.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { fetchSourceText, type LookupFunction, probeSource, SourceProbeError, watchIcyTitles } from '@djcast/relay';
import { UrlNotAllowedError } from '@djcast/relay/net';
import { openHttpRange, TrackFetchError } from '../src/media/track-sources.js';
import { createTestApp, signUp } from './harness.js';
import { RecordingLauncher } from './relay-fakes.js';

const PUBLIC_HOST = '11.0.0.1';
const SECRET = 'TOP-SECRET-INTERNAL-DOCUMENT';
const out = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(record)}\n`);

async function listen(server: http.Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

// The internal service: anything it serves must never leave the server.
const secretHits: string[] = [];
const secret = http.createServer((req, res) => {
  secretHits.push(req.url ?? '/');
  const body = Buffer.from(SECRET.repeat(40));
  res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': body.length, 'accept-ranges': 'bytes' }).end(body);
});
const secretPort = await listen(secret, '127.0.0.1');

// The "public" origin: a file host, an Icecast lookalike, and redirects into the internal network.
let sourceRedirects = false;
const publicRequests: string[] = [];
const origin = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  publicRequests.push(path);
  const redirect = (location: string) => res.writeHead(302, { location, 'content-length': 0 }).end();
  if (path === '/literal.mp3') return redirect(`http://127.0.0.1:${secretPort}/secret.mp3`);
  if (path === '/name.mp3') return redirect(`http://localhost:${secretPort}/secret.mp3`);
  if (path === '/mapped.mp3') return redirect(`http://[::ffff:127.0.0.1]:${secretPort}/secret.mp3`);
  if (path === '/chain.mp3') return redirect(`http://${PUBLIC_HOST}:${originPort}/literal.mp3`);
  if (path === '/ok.mp3') {
    const body = Buffer.alloc(4096, 0x55);
    return res
      .writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': body.length })
      .end(req.method === 'HEAD' ? undefined : body);
  }
  if (path === '/redirecting-source') return redirect(`http://127.0.0.1:${secretPort}/live`);
  if (sourceRedirects) return redirect(`http://127.0.0.1:${secretPort}${path}`);
  if (path === '/status-json.xsl') {
    const body = JSON.stringify({
      icestats: {
        source: { listenurl: `http://${PUBLIC_HOST}:${originPort}/live`, listeners: 3, bitrate: 128, title: 'Public Track' },
      },
    });
    return res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  }
  if (path === '/live') {
    res.writeHead(200, {
      'content-type': 'audio/mpeg',
      server: 'Icecast 2.4.4',
      'icy-name': 'Public',
      'icy-br': '128',
      'icy-metaint': '16',
    });
    res.write(
      Buffer.concat([Buffer.alloc(16, 0x55), Buffer.from([2]), Buffer.from("StreamTitle='Public Track';".padEnd(32, '\0'))]),
    );
    const timer = setInterval(() => res.write(Buffer.concat([Buffer.alloc(16, 0x55), Buffer.from([0])])), 100);
    res.on('close', () => clearInterval(timer));
    return;
  }
  res.writeHead(404, { 'content-length': 0 }).end();
});
const originPort = await listen(origin, PUBLIC_HOST);
const pub = (path: string) => `http://${PUBLIC_HOST}:${originPort}${path}`;

const launcher = new RecordingLauncher();
const t = await createTestApp(
  'sqlite',
  { DJCAST_ALLOW_PRIVATE_URLS: 'false', DJCAST_LOG_LEVEL: 'warn' },
  { relayLauncher: launcher },
);
try {
  const dj = await signUp(t);

  // Playlists: the external URL check (HEAD, then GET) on a public origin that redirects inward.
  for (const path of ['/literal.mp3', '/name.mp3', '/mapped.mp3', '/chain.mp3', '/ok.mp3']) {
    const before = secretHits.length;
    const res = await t.request('POST', '/v1/playlists', { token: dj.token, body: { title: path, items: [{ url: pub(path) }] } });
    const body = await res.text();
    out({ case: `playlist ${path}`, status: res.status, body, secretHits: secretHits.length - before });
  }
  {
    const before = secretHits.length;
    const res = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'direct', items: [{ url: `http://[::ffff:127.0.0.1]:${secretPort}/secret.mp3` }] },
    });
    out({
      case: 'playlist direct IPv4-mapped',
      status: res.status,
      body: await res.text(),
      secretHits: secretHits.length - before,
    });
  }

  // stream.mp3 and the external-track download read external files with openHttpRange.
  for (const path of ['/literal.mp3', '/name.mp3', '/mapped.mp3', '/ok.mp3']) {
    const before = secretHits.length;
    let result: Record<string, unknown>;
    try {
      const bytes = await buffer(await openHttpRange(pub(path), 0, 4095, { allowPrivate: false }));
      result = { ok: true, bytes: bytes.length, leaked: bytes.toString('latin1').includes(SECRET) };
    } catch (error) {
      result = {
        ok: false,
        error: (error as Error).name,
        notAllowed: error instanceof TrackFetchError && error.cause instanceof UrlNotAllowedError,
      };
    }
    out({ case: `track range ${path}`, ...result, secretHits: secretHits.length - before });
  }

  // Stream registration: the probe on a redirecting source, and on a good one (the control).
  for (const path of ['/redirecting-source', '/live']) {
    const before = secretHits.length;
    const res = await t.request('POST', '/v1/streams', { token: dj.token, body: { name: path, source_url: pub(path) } });
    out({ case: `register ${path}`, status: res.status, body: await res.text(), secretHits: secretHits.length - before });
  }

  // The relay's own reads (stats poll, ICY titles, re-probe) once the registered source starts redirecting.
  const relayReads = async (label: string) => {
    const before = secretHits.length;
    const stats = await fetchSourceText(new URL(pub('/status-json.xsl')), { timeoutMs: 10_000, allowPrivate: false }).then(
      (r) => ({ status: r.status, leaked: r.text.includes(SECRET) }),
      (e: Error) => ({ error: e.name }),
    );
    const abort = new AbortController();
    const titles: (string | null)[] = [];
    const icy = await watchIcyTitles(pub('/live'), {
      userAgent: 'test',
      allowPrivate: false,
      signal: abort.signal,
      onTitle: (title) => {
        titles.push(title);
        abort.abort();
      },
    }).then(
      (end) => ({ end, titles }),
      (e: Error) => ({ error: e.message }),
    );
    const probe = await probeSource(pub('/live'), { timeoutMs: 10_000, allowPrivate: false }).then(
      (r) => ({ kind: r.kind, stats: r.stats?.currentTrack ?? null }),
      (e: unknown) => ({ reason: e instanceof SourceProbeError ? e.reason : String(e) }),
    );
    out({ case: `relay reads ${label}`, stats, icy, probe, secretHits: secretHits.length - before });
  };
  await relayReads('before');
  sourceRedirects = true;
  await relayReads('after');

  // DNS rebinding: a source name that resolves to the public address first and to loopback afterwards.
  {
    const before = secretHits.length;
    let calls = 0;
    const rebinding: LookupFunction = (_hostname, options, callback) => {
      const address = calls++ === 0 ? PUBLIC_HOST : '127.0.0.1';
      if (options.all) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    };
    const url = new URL(`http://radio.rebind.test:${originPort}/ok.mp3`);
    const first = await fetchSourceText(url, { timeoutMs: 10_000, lookup: rebinding }).then(
      (r) => r.status,
      (e: Error) => e.name,
    );
    // The second answer points the name at loopback; the port is the secret server's.
    const second = await fetchSourceText(new URL(`http://radio.rebind.test:${secretPort}/ok.mp3`), {
      timeoutMs: 10_000,
      lookup: rebinding,
    }).then(
      (r) => r.status,
      (e: Error) => e.name,
    );
    out({ case: 'dns rebinding', first, second, secretHits: secretHits.length - before });
  }

  const leakedInLogs = t.rawLogs.some((l) => l.includes(SECRET));
  out({
    case: 'summary',
    totalSecretHits: secretHits.length,
    publicRequests: publicRequests.length,
    leakedInLogs,
    launches: launcher.calls.filter((c) => c.op === 'start').length,
  });
} finally {
  await t.close();
  secret.close();
  origin.closeAllConnections();
  origin.close();
}
out({ done: true });
process.exit(0);
