// The whole custom-domain flow against real components started here (story
// 4002.2 and 4002.3): PowerDNS as the authoritative DNS, Debian's Pebble as
// the ACME CA resolving through it. TXT missing -> pending; TXT created ->
// verified; the CNAME created through PowerDNS's API; Pebble validates HTTP-01
// against the server's HTTP port; the certificate is issued (its key sealed at
// rest); an HTTPS request with that SNI returns the podcast's feed and chains
// to Pebble's root; an unknown name gets no certificate; and with the injected
// clock near expiry, the renewal job replaces the certificate in place.

import type { Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpsServer } from '../src/http/https-server.js';
import { createHttpServer } from '../src/http/server.js';
import { createTestApp, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { preparePebble, type PebbleHarness, type PebblePrepared } from './pebble.js';
import { startPowerDns, type PowerDnsHarness } from './powerdns.js';

const EDGE = 'edge.djcast-edge.test';
const HOST = 'podcast.djname.com';

interface DomainJson {
  id: string;
  state: string;
  failure_reason: string | null;
  records: { type: string; name: string; value: string; found: boolean }[];
  cname_managed_by: string | null;
  certificate: { not_before: string; not_after: string } | null;
}

function httpsGet(port: number, servername: string, ca: string, path = '/rss.xml') {
  return new Promise<{ status: number; body: string; cert: PeerCertificate }>((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, servername, path, headers: { host: servername }, ca, agent: false },
      (res) => {
        const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert }));
      },
    );
    req.on('error', reject);
  });
}

describe('custom domain end to end: PowerDNS + Pebble + HTTPS by SNI', () => {
  let pdns: PowerDnsHarness;
  let prepared: PebblePrepared;
  let pebble: PebbleHarness;
  let t: TestApp;
  let http: Server;
  let tls: import('node:https').Server;
  let tlsPort: number;
  const clock = manualClock();

  beforeAll(async () => {
    pdns = await startPowerDns();
    for (const zone of ['djname.com', 'djcast-edge.test']) await pdns.createZone(zone);
    await pdns.setRecord(EDGE, 'A', ['127.0.0.1']);
    prepared = await preparePebble();
    t = await createTestApp(
      'sqlite',
      {
        DJCAST_DNS_RESOLVERS: pdns.dnsServer,
        DJCAST_DOMAIN_CNAME_TARGET: EDGE,
        DJCAST_DNS_PROVIDER: 'powerdns',
        DJCAST_POWERDNS_API_URL: pdns.apiUrl,
        DJCAST_POWERDNS_API_KEY: pdns.apiKey,
        DJCAST_ACME_DIRECTORY_URL: prepared.directoryUrl,
        DJCAST_ACME_CA_FILE: prepared.caFile,
        DJCAST_ACME_EMAIL: 'ops@djcast.example',
        // The renewal step moves the clock years ahead.
        DJCAST_ACCESS_TOKEN_TTL_SECONDS: String(20 * 365 * 24 * 3600),
      },
      { clock: clock.now },
    );
    t.container.worker.start();
    http = createHttpServer(t.app, t.container.config.http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    pebble = await prepared.start((http.address() as AddressInfo).port, pdns.dnsServer);
    tls = createHttpsServer(t.app, t.container.config.http, (name) => t.container.domains.secureContextFor(name));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', () => resolve()));
    tlsPort = (tls.address() as AddressInfo).port;
  }, 180_000);

  afterAll(async () => {
    tls?.closeAllConnections();
    await new Promise((r) => (tls ? tls.close(r) : r(null)));
    http?.closeAllConnections();
    await new Promise((r) => (http ? http.close(r) : r(null)));
    await t?.close();
    await pebble?.stop();
    await prepared?.cleanup();
    await pdns?.stop();
  });

  it('goes from add to the feed over HTTPS at the DJ’s name, then renews in place', async () => {
    const dj = await signUp(t);
    const pod = await t.request('POST', '/v1/podcasts', {
      token: dj.token,
      body: { title: 'Night Shift Sessions', description: 'Sets', author: 'DJ', category: 'Music' },
    });
    expect(pod.status).toBe(201);
    const podcast = ((await pod.json()) as { id: string }).id;

    const created = await t.request('POST', '/v1/domains', { token: dj.token, body: { hostname: HOST, podcast_id: podcast } });
    expect(created.status).toBe(201);
    const domain = (await created.json()) as DomainJson;
    const get = async () =>
      (await (await t.request('GET', `/v1/domains/${domain.id}`, { token: dj.token })).json()) as DomainJson;
    const verify = async () =>
      (await (await t.request('POST', `/v1/domains/${domain.id}/verify`, { token: dj.token })).json()) as DomainJson;

    expect((await verify()).state).toBe('pending_verification');

    const txt = domain.records.find((r) => r.type === 'TXT')!;
    await pdns.setRecord(txt.name, 'TXT', [txt.value]);
    const verified = await verify();
    expect(['issuing', 'active']).toContain(verified.state);
    expect(verified.cname_managed_by).toBe('powerdns');
    const cname = (await pdns.rrsets('djname.com')).find((r) => r.type === 'CNAME' && r.name === `${HOST}.`);
    expect(cname?.records.map((r) => r.content)).toEqual([`${EDGE}.`]);

    const active = await waitFor(
      'the certificate from Pebble',
      async () => {
        const d = await get();
        if (d.state === 'failed') throw new Error(`failed: ${d.failure_reason}\n${pebble.log()}`);
        return d.state === 'active' ? d : null;
      },
      120_000,
    );
    expect(active.certificate).not.toBeNull();

    // The key is sealed at rest.
    const row = await t.container.db.kysely.selectFrom('domain_certificates').selectAll().executeTakeFirstOrThrow();
    expect(row.key_sealed).toMatch(/^v1\./);
    expect(row.key_sealed).not.toContain('PRIVATE KEY');

    const root = await pebble.root();
    const res = await httpsGet(tlsPort, HOST, root);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<rss');
    expect(res.body).toContain('Night Shift Sessions');
    expect(res.cert.subjectaltname).toContain(`DNS:${HOST}`);
    const firstSerial = res.cert.serialNumber;

    // An unknown name gets no certificate at all.
    await expect(httpsGet(tlsPort, 'other.djname.com', root)).rejects.toThrow();

    // The expiry gauge for alerting.
    const metrics = await (await t.request('GET', '/metrics')).text();
    expect(metrics).toContain(
      `djcast_certificate_expiry_timestamp_seconds{hostname="${HOST}"} ${Math.floor(Date.parse(active.certificate!.not_after) / 1000)}`,
    );

    // 29 days before expiry on the injected clock: the renewal job issues a new one, served without a restart.
    clock.set(Date.parse(active.certificate!.not_after) - 29 * 86_400_000);
    t.container.jobs.wake();
    const renewed = await waitFor(
      'the renewed certificate',
      async () => {
        const r = await t.container.db.kysely.selectFrom('domain_certificates').selectAll().executeTakeFirstOrThrow();
        return r.cert_pem !== row.cert_pem ? r : null;
      },
      120_000,
    );
    expect(renewed.key_sealed).not.toBe(row.key_sealed);
    const again = await httpsGet(tlsPort, HOST, root);
    expect(again.status).toBe(200);
    expect(again.cert.serialNumber).not.toBe(firstSerial);
  }, 300_000);
});
