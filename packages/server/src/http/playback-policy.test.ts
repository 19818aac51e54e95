// The playback policy's pure rules as data (client address, caching), and
// the client-address middleware over a real loopback socket.

import type { AddressInfo } from 'node:net';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { AppEnv } from './env.js';
import { clientAddressOf, isOpen, parseCidr, playbackCaching, TrustedProxies } from './playback-policy.js';
import { createHttpServer } from './server.js';

describe('TrustedProxies.clientAddress', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
  const cases: [string, string | undefined, string | undefined, string][] = [
    ['no proxies trusted: the socket', '203.0.113.9', '198.51.100.1', '203.0.113.9'],
    ['a direct client may not claim an address', '203.0.113.9', '1.2.3.4', '203.0.113.9'],
    ['a trusted proxy: the hop it saw', '10.1.2.3', '198.51.100.7', '198.51.100.7'],
    ['a client-made prefix is skipped: first untrusted from the right', '10.1.2.3', '6.6.6.6, 198.51.100.7', '198.51.100.7'],
    ['a chain of trusted proxies is walked', '10.1.2.3', '198.51.100.7, 10.9.9.9, 10.8.8.8', '198.51.100.7'],
    ['all hops trusted: the leftmost', '10.1.2.3', '10.5.5.5, 10.6.6.6', '10.5.5.5'],
    ['a garbage hop stops at the proxy that wrote it', '10.1.2.3', 'not-an-ip', '10.1.2.3'],
    ['garbage behind a real hop', '10.1.2.3', 'evil, 198.51.100.7', '198.51.100.7'],
    ['ports and brackets are stripped', '10.1.2.3', '[2001:db8::5]:443', '2001:db8::5'],
    ['an IPv4 hop with a port', '10.1.2.3', '198.51.100.7:5123', '198.51.100.7'],
    ['an IPv4-mapped socket address is the IPv4 address', '::ffff:10.1.2.3', '198.51.100.7', '198.51.100.7'],
    ['an IPv4-mapped untrusted socket', '::ffff:203.0.113.9', '198.51.100.7', '203.0.113.9'],
    ['IPv6 proxy range', 'fd12::1', '2001:db8::1', '2001:db8::1'],
    ['no header behind a proxy: the proxy', '10.1.2.3', undefined, '10.1.2.3'],
    ['no socket address (not on Node)', undefined, '198.51.100.7', 'unknown'],
  ];
  it.each(cases)('%s', (_what, remote, forwarded, expected) => {
    expect(proxies.clientAddress(remote, forwarded)).toBe(expected);
  });

  it('trusts nobody when configured with nothing', () => {
    expect(new TrustedProxies([]).clientAddress('127.0.0.1', '198.51.100.7')).toBe('127.0.0.1');
  });

  it('parses addresses and ranges, and refuses anything else', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '::/129', '10.0.0.0/'])
      expect(() => parseCidr(bad)).toThrow();
  });

  it('comes from DJCAST_TRUSTED_PROXIES, validated', () => {
    expect(loadConfig({}).http.trustedProxies).toEqual([]);
    expect(loadConfig({ DJCAST_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8 ,127.0.0.1' }).http.trustedProxies).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
      '127.0.0.1',
    ]);
    expect(() => loadConfig({ DJCAST_TRUSTED_PROXIES: '10.0.0.0/8,lb.internal' })).toThrow(/DJCAST_TRUSTED_PROXIES/);
  });
});

describe('playbackCaching', () => {
  const open = { open: isOpen({ visibility: 'public', monetized: false }) };
  const closed = { open: isOpen({ visibility: 'public', monetized: true }) };
  it('lets shared caches keep only what anyone may play', () => {
    expect(playbackCaching.document(open, 60)).toBe('public, max-age=60');
    expect(playbackCaching.document(closed, 60)).toBe('private, no-store');
    expect(playbackCaching.livePlaylist(open, 2)).toBe('public, max-age=2');
    expect(playbackCaching.livePlaylist(closed, 2)).toBe('private, max-age=2');
    expect(playbackCaching.segment(open)).toBe('public, max-age=31536000, immutable');
    expect(playbackCaching.segment(closed)).toBe('private, max-age=31536000, immutable');
    expect(playbackCaching.presignedRedirect()).toBe('private, no-store');
    expect(isOpen({ visibility: 'private', monetized: false })).toBe(false);
  });
});

describe('clientAddressOf on a real socket', () => {
  const servers: ReturnType<typeof createHttpServer>[] = [];
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  async function addressSeen(trusted: string[], forwardedFor: string): Promise<string> {
    const app = new OpenAPIHono<AppEnv>();
    const proxies = new TrustedProxies(trusted);
    app.get('/', (c) => c.text(clientAddressOf(c, proxies)));
    const server = createHttpServer(app, loadConfig({}).http);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
      headers: { 'x-forwarded-for': forwardedFor },
    });
    return res.text();
  }

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    expect(await addressSeen([], '198.51.100.7')).toBe('127.0.0.1');
    expect(await addressSeen(['10.0.0.0/8'], '198.51.100.7')).toBe('127.0.0.1');
  });

  it('believes it from a trusted proxy', async () => {
    expect(await addressSeen(['127.0.0.0/8'], '198.51.100.7')).toBe('198.51.100.7');
  });
});
