// The DNS provider adapters, each through the same checks: PowerDNS against a
// real pdns_server on loopback, Cloudflare (the official `cloudflare` client)
// against a loopback fake that checks every request, and `none`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareDnsProvider } from '../src/adapters/dns/cloudflare.js';
import { NoDnsProvider } from '../src/adapters/dns/none.js';
import { PowerDnsProvider } from '../src/adapters/dns/powerdns.js';
import { startFakeCloudflare, type FakeCloudflare } from './fake-cloudflare.js';
import { startPowerDns, type PowerDnsHarness } from './powerdns.js';

describe('PowerDNS provider against a real pdns_server', () => {
  let pdns: PowerDnsHarness;
  beforeAll(async () => {
    pdns = await startPowerDns();
    await pdns.createZone('djname.com');
    await pdns.createZone('sub.djname.com');
  });
  afterAll(() => pdns?.stop());

  const cnamesIn = async (zone: string) =>
    (await pdns.rrsets(zone)).filter((r) => r.type === 'CNAME').map((r) => [r.name, r.records.map((x) => x.content)]);

  it('creates the CNAME in the most specific zone, replaces it, deletes it; answers false for a zone it does not hold', async () => {
    const provider = new PowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
    expect(await provider.upsertCname('podcast.djname.com', 'edge.djcast.example')).toBe(true);
    expect(await cnamesIn('djname.com')).toEqual([['podcast.djname.com.', ['edge.djcast.example.']]]);
    expect(await provider.upsertCname('podcast.djname.com', 'edge2.djcast.example')).toBe(true);
    expect(await cnamesIn('djname.com')).toEqual([['podcast.djname.com.', ['edge2.djcast.example.']]]);

    expect(await provider.upsertCname('a.sub.djname.com', 'edge.djcast.example')).toBe(true);
    expect(await cnamesIn('sub.djname.com')).toEqual([['a.sub.djname.com.', ['edge.djcast.example.']]]);

    expect(await provider.upsertCname('podcast.elsewhere.org', 'edge.djcast.example')).toBe(false);

    await provider.deleteCname('podcast.djname.com');
    expect(await cnamesIn('djname.com')).toEqual([]);
  });

  it('fails loudly with a wrong API key, naming the status', async () => {
    const provider = new PowerDnsProvider({ apiUrl: pdns.apiUrl, apiKey: 'wrong' });
    await expect(provider.upsertCname('podcast.djname.com', 'edge.djcast.example')).rejects.toThrow(/401/);
  });
});

describe('Cloudflare provider against a loopback fake of API v4', () => {
  let cf: FakeCloudflare;
  beforeAll(async () => {
    cf = await startFakeCloudflare([{ id: '023e105f4ecef8ad9ca31a8372d0c353', name: 'djname.com' }]);
  });
  afterAll(() => cf.close());

  it('finds the zone, creates the CNAME, updates it in place, deletes it, with the token as a Bearer header', async () => {
    const provider = new CloudflareDnsProvider({ apiToken: cf.token, baseUrl: cf.baseUrl });
    const zone = '023e105f4ecef8ad9ca31a8372d0c353';

    expect(await provider.upsertCname('podcast.djname.com', 'edge.djcast.example')).toBe(true);
    expect(cf.records.get(zone)).toEqual([
      { id: 'rec1', type: 'CNAME', name: 'podcast.djname.com', content: 'edge.djcast.example', ttl: 1, proxied: false },
    ]);
    // The zone is looked up from the most specific name down, then the existing CNAME, then written.
    expect(cf.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /client/v4/zones?name=podcast.djname.com',
      'GET /client/v4/zones?name=djname.com',
      `GET /client/v4/zones/${zone}/dns_records?type=CNAME&name.exact=podcast.djname.com`,
      `POST /client/v4/zones/${zone}/dns_records`,
    ]);

    cf.requests.length = 0;
    expect(await provider.upsertCname('podcast.djname.com', 'edge2.djcast.example')).toBe(true);
    expect(cf.requests.at(-1)).toMatchObject({ method: 'PUT', path: `/client/v4/zones/${zone}/dns_records/rec1` });
    expect(cf.records.get(zone)).toHaveLength(1);
    expect(cf.records.get(zone)![0]!.content).toBe('edge2.djcast.example');

    await provider.deleteCname('podcast.djname.com');
    expect(cf.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/client/v4/zones/${zone}/dns_records/rec1` });
    expect(cf.records.get(zone)).toEqual([]);

    expect(await provider.upsertCname('podcast.elsewhere.org', 'edge.djcast.example')).toBe(false);
    expect(cf.violations).toEqual([]);
  });

  it('surfaces an API error (a wrong token) instead of pretending', async () => {
    const provider = new CloudflareDnsProvider({ apiToken: 'wrong', baseUrl: cf.baseUrl });
    await expect(provider.upsertCname('podcast.djname.com', 'edge.djcast.example')).rejects.toThrow();
    expect(cf.violations.some((v) => v.includes('Authorization'))).toBe(true);
    cf.violations.length = 0;
  });
});

describe('no provider', () => {
  it('manages no zone: the DJ creates the CNAME', async () => {
    const provider = new NoDnsProvider();
    expect(await provider.upsertCname()).toBe(false);
    await expect(provider.deleteCname()).resolves.toBeUndefined();
  });
});
