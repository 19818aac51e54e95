import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceProtocolError, TooManyRedirectsError, UrlNotAllowedError } from './errors.js';
import { fetchFollowing, nextHop, parseFetchUrl, readBodyText, requestOnce } from './http.js';

describe('parseFetchUrl and nextHop', () => {
  it('accepts only absolute http(s) URLs', () => {
    expect(parseFetchUrl('https://cdn.example.com/a.mp3').host).toBe('cdn.example.com');
    for (const raw of ['http://[fe80::1%25lo]/', 'file:///etc/passwd', 'gopher://x/', 'not a url', '/relative']) {
      expect(() => parseFetchUrl(raw), raw).toThrow(UrlNotAllowedError);
    }
  });

  it('resolves a Location against the current URL and refuses other schemes and credentials', () => {
    const from = new URL('http://a.example/x/y?q=1');
    expect(nextHop(from, '../z#frag').href).toBe('http://a.example/z');
    expect(nextHop(from, 'https://b.example/').href).toBe('https://b.example/');
    expect(() => nextHop(from, 'file:///etc/passwd')).toThrow(UrlNotAllowedError);
    expect(() => nextHop(from, 'ftp://b.example/')).toThrow(UrlNotAllowedError);
    expect(() => nextHop(from, 'http://user:pw@b.example/')).toThrow(UrlNotAllowedError);
    expect(() => nextHop(from, 'http://[::1')).toThrow(SourceProtocolError);
  });
});

describe('fetchFollowing', () => {
  let server: http.Server;
  let other: http.Server;
  let base: string;
  let otherBase: string;
  const seen: { url: string; auth: string | undefined; method: string }[] = [];

  beforeAll(async () => {
    other = http.createServer((req, res) => {
      seen.push({ url: `other${req.url}`, auth: req.headers.authorization, method: req.method! });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('other');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    server = http.createServer((req, res) => {
      seen.push({ url: req.url!, auth: req.headers.authorization, method: req.method! });
      const loop = /^\/loop\/(\d+)$/.exec(req.url!);
      if (loop) return res.writeHead(302, { location: `/loop/${Number(loop[1]) + 1}` }).end();
      if (req.url === '/to-other') return res.writeHead(307, { location: `${otherBase}/landed` }).end();
      if (req.url === '/see-other') return res.writeHead(303, { location: '/final' }).end();
      if (req.url === '/to-file') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
      const text = `final ${req.method}`;
      res
        .writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(text)) })
        .end(req.method === 'HEAD' ? undefined : text);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await new Promise((r) => other.close(r));
  });

  const opts = { allowPrivate: true, timeoutMs: 10_000 };

  it('follows redirects itself and stops after the hop limit', async () => {
    seen.length = 0;
    const ok = await fetchFollowing(new URL(`${base}/loop/0`), { ...opts, maxRedirects: 5 }).catch((e: unknown) => e);
    expect(ok).toBeInstanceOf(TooManyRedirectsError);
    expect(seen.map((s) => s.url)).toEqual(['/loop/0', '/loop/1', '/loop/2', '/loop/3', '/loop/4', '/loop/5']);
  });

  it('returns the final URL and body, turns a 303 into a GET, keeps HEAD a HEAD', async () => {
    const res = await fetchFollowing(new URL(`${base}/see-other`), opts);
    expect([res.status, res.url.pathname, res.redirects]).toEqual([200, '/final', 1]);
    expect(await readBodyText(res, { maxBytes: 100, timeoutMs: 10_000 })).toBe('final GET');
    const head = await fetchFollowing(new URL(`${base}/see-other`), { ...opts, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(seen.at(-1)!.method).toBe('HEAD');
    head.close();
  });

  it('drops the credentials when a redirect leaves the origin', async () => {
    seen.length = 0;
    const res = await fetchFollowing(new URL(`${base}/to-other`), { ...opts, headers: { Authorization: 'Basic c2VjcmV0' } });
    res.close();
    expect(seen).toEqual([
      { url: '/to-other', auth: 'Basic c2VjcmV0', method: 'GET' },
      { url: 'other/landed', auth: undefined, method: 'GET' },
    ]);
  });

  it('refuses a redirect to another scheme', async () => {
    await expect(fetchFollowing(new URL(`${base}/to-file`), opts)).rejects.toBeInstanceOf(UrlNotAllowedError);
  });

  it('refuses loopback by default, on the first hop as on any other, without connecting', async () => {
    seen.length = 0;
    await expect(requestOnce(new URL(`${base}/final`), { timeoutMs: 10_000 })).rejects.toBeInstanceOf(UrlNotAllowedError);
    await expect(fetchFollowing(new URL(`${base}/final`), { timeoutMs: 10_000 })).rejects.toBeInstanceOf(UrlNotAllowedError);
    const port = new URL(base).port;
    await expect(fetchFollowing(new URL(`http://localhost:${port}/final`), { timeoutMs: 10_000 })).rejects.toBeInstanceOf(
      UrlNotAllowedError,
    );
    await expect(
      fetchFollowing(new URL(`http://[::ffff:127.0.0.1]:${port}/final`), { timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(UrlNotAllowedError);
    expect(seen).toEqual([]);
  });

  it('ends the body after Content-Length', async () => {
    const res = await requestOnce(new URL(`${base}/final`), opts);
    expect(res.headers['content-length']).toBe('9');
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('final GET');
  });
});
