// Custom domains through the API (story 4002) against a real PowerDNS on
// loopback, started here: the records to create (4002.1), TXT missing ->
// pending, TXT created -> verified, the CNAME created through PowerDNS's API
// and found by the resolver -> issuing (4002.2); the DJ-made CNAME found by
// the poller when no provider manages the zone; the 24-hour email to a real
// SMTP server (4002.4); and the bad inputs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { decodeQuotedPrintable, startSmtpSink } from './domains-support.js';
import { startPowerDns, type PowerDnsHarness } from './powerdns.js';

interface DomainJson {
  id: string;
  hostname: string;
  state: string;
  failure_reason: string | null;
  records: { type: string; name: string; value: string; found: boolean }[];
  records_found: { txt: string[]; cname: string[] };
  cname_managed_by: string | null;
  feed_url: string;
}

const EDGE = 'edge.djcast-edge.test';
let pdns: PowerDnsHarness;

beforeAll(async () => {
  pdns = await startPowerDns();
  for (const zone of ['djname.com', 'handmade.org', 'djcast-edge.test']) await pdns.createZone(zone);
  await pdns.setRecord(EDGE, 'A', ['127.0.0.1']);
});
afterAll(async () => {
  await pdns?.stop();
});

async function createPodcast(t: TestApp, token: string): Promise<string> {
  const res = await t.request('POST', '/v1/podcasts', {
    token,
    body: { title: 'Show', description: 'Sets', author: 'DJ', category: 'Music' },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe.each(DIALECTS)('custom domains on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let other: Awaited<ReturnType<typeof signUp>>;
  let podcast: string;
  const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
  const suffix = `${dialect}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    t = await createTestApp(
      dialect,
      {
        DJCAST_DNS_RESOLVERS: pdns.dnsServer,
        DJCAST_DOMAIN_CNAME_TARGET: EDGE,
        DJCAST_DNS_PROVIDER: 'powerdns',
        DJCAST_POWERDNS_API_URL: pdns.apiUrl,
        DJCAST_POWERDNS_API_KEY: pdns.apiKey,
      },
      { clock: clock.now },
    );
    dj = await signUp(t);
    other = await signUp(t);
    podcast = await createPodcast(t, dj.token);
  });
  afterAll(() => t.close());

  const add = async (hostname: string, token = dj.token, podcastId = podcast) =>
    t.request('POST', '/v1/domains', { token, body: { hostname, podcast_id: podcastId } });
  const verify = async (id: string, token = dj.token) => {
    const res = await t.request('POST', `/v1/domains/${id}/verify`, { token });
    expect(res.status).toBe(200);
    return (await res.json()) as DomainJson;
  };

  it('answers 201 with the TXT record to create (a random value) and the CNAME target', async () => {
    const hostname = `podcast-${suffix}.djname.com`;
    const res = await add(hostname.toUpperCase());
    expect(res.status).toBe(201);
    const domain = (await res.json()) as DomainJson;
    expect(domain.id).toMatch(/^dom_/);
    expect(domain.hostname).toBe(hostname);
    expect(domain.state).toBe('pending_verification');
    const txt = domain.records.find((r) => r.type === 'TXT')!;
    expect(txt.name).toBe(`_djcast-challenge.${hostname}`);
    expect(txt.value).toMatch(/^djcast-verify=[0-9a-f]{32}$/);
    expect(domain.records.find((r) => r.type === 'CNAME')).toMatchObject({ name: hostname, value: EDGE, found: false });
    const second = (await (await add(`two-${suffix}.djname.com`)).json()) as DomainJson;
    expect(second.records[0]!.value).not.toBe(txt.value);
  });

  it('TXT missing -> pending; wrong value -> pending showing what was found; created -> verified, CNAME through PowerDNS -> issuing', async () => {
    const hostname = `flow-${suffix}.djname.com`;
    const domain = (await (await add(hostname)).json()) as DomainJson;
    const txt = domain.records.find((r) => r.type === 'TXT')!;

    let checked = await verify(domain.id);
    expect(checked.state).toBe('pending_verification');
    expect(checked.records_found.txt).toEqual([]);

    await pdns.setRecord(txt.name, 'TXT', ['djcast-verify=not-the-value']);
    checked = await verify(domain.id);
    expect(checked.state).toBe('pending_verification');
    expect(checked.records_found.txt).toEqual(['djcast-verify=not-the-value']);
    expect(checked.records.find((r) => r.type === 'TXT')!.found).toBe(false);

    await pdns.setRecord(txt.name, 'TXT', [txt.value]);
    checked = await verify(domain.id);
    // Verified, then the CNAME was created through the provider and read back: the certificate is next.
    expect(checked.state).toBe('issuing');
    expect(checked.cname_managed_by).toBe('powerdns');
    expect(checked.records.every((r) => r.found)).toBe(true);
    const cname = (await pdns.rrsets('djname.com')).find((r) => r.type === 'CNAME' && r.name === `${hostname}.`);
    expect(cname?.records.map((r) => r.content)).toEqual([`${EDGE}.`]);

    const events = (await (await t.request('GET', '/v1/events?type=domain.verified&limit=100', { token: dj.token })).json()) as {
      data: { data: { object: { id: string; state: string } } }[];
    };
    expect(events.data.map((e) => e.data.object)).toContainEqual(expect.objectContaining({ id: domain.id, state: 'verified' }));

    const got = (await (await t.request('GET', `/v1/domains/${domain.id}`, { token: dj.token })).json()) as DomainJson;
    expect(got.state).toBe('issuing');
    const list = (await (await t.request('GET', '/v1/domains', { token: dj.token })).json()) as { data: DomainJson[] };
    expect(list.data.map((d) => d.id)).toContain(domain.id);

    // Deleting it removes the CNAME the platform created.
    expect((await t.request('DELETE', `/v1/domains/${domain.id}`, { token: dj.token })).status).toBe(204);
    expect((await pdns.rrsets('djname.com')).find((r) => r.type === 'CNAME' && r.name === `${hostname}.`)).toBeUndefined();
    expect((await t.request('GET', `/v1/domains/${domain.id}`, { token: dj.token })).status).toBe(404);
  });

  it('refuses IP addresses, wildcards and the platform domain (400); a hostname another DJ verified (409); their domain (403)', async () => {
    for (const hostname of ['127.0.0.1', '::1', '*.djname.com', 'djcast.test', `x.djcast.test`, 'localhost']) {
      const res = await add(hostname);
      expect(res.status, hostname).toBe(400);
      const problem = (await res.json()) as { code: string; errors: { path: string }[] };
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors.map((e) => e.path)).toContain('hostname');
    }

    const hostname = `taken-${suffix}.djname.com`;
    const mine = (await (await add(hostname)).json()) as DomainJson;
    await pdns.setRecord(mine.records[0]!.name, 'TXT', [mine.records[0]!.value]);
    expect((await verify(mine.id)).state).not.toBe('pending_verification');

    const theirPodcast = await createPodcast(t, other.token);
    const conflict = await add(hostname, other.token, theirPodcast);
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { code: string }).code).toBe('conflict');
    // Adding it again myself is a conflict too (it is already mine).
    expect((await add(hostname)).status).toBe(409);

    for (const [method, url] of [
      ['GET', `/v1/domains/${mine.id}`],
      ['POST', `/v1/domains/${mine.id}/verify`],
      ['DELETE', `/v1/domains/${mine.id}`],
    ] as const) {
      const res = await t.request(method, url, { token: other.token });
      expect(res.status, `${method} ${url}`).toBe(403);
    }
    // Another DJ's podcast cannot be given a domain.
    expect((await add(`steal-${suffix}.djname.com`, other.token, podcast)).status).toBe(403);
    const theirs = (await (await t.request('GET', '/v1/domains', { token: other.token })).json()) as { data: DomainJson[] };
    expect(theirs.data.map((d) => d.id)).not.toContain(mine.id);
  });
});

describe('a zone no provider manages, polled by the worker, with the 24-hour email over SMTP', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp(
      'sqlite',
      {
        DJCAST_DNS_RESOLVERS: pdns.dnsServer,
        DJCAST_DOMAIN_CNAME_TARGET: EDGE,
        DJCAST_DOMAIN_POLL_SECONDS: '60',
        DJCAST_SMTP_URL: smtp.url,
        // The test moves the clock days ahead: the DJ's token must outlive that.
        DJCAST_ACCESS_TOKEN_TTL_SECONDS: String(30 * 24 * 3600),
      },
      { clock: clock.now },
    );
    t.container.worker.start();
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const get = async (token: string, id: string) =>
    (await (await t.request('GET', `/v1/domains/${id}`, { token })).json()) as DomainJson;
  /** The poller's next run is queued (so moving the clock makes it due, not the enqueue later). */
  const nextCheckQueued = (id: string) =>
    waitFor('the next poll to be queued', async () =>
      t.container.db.kysely
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', 'domain.check')
        .where('resource_id', '=', id)
        .where('state', '=', 'queued')
        .executeTakeFirst(),
    );
  const advance = async (id: string, ms: number) => {
    await nextCheckQueued(id);
    clock.advance(ms);
    t.container.jobs.wake();
  };

  it('mails the DJ once after 24 hours unverified, naming the records expected and found; the poller then finds TXT and the hand-made CNAME', async () => {
    const dj = await signUp(t);
    const podcast = await createPodcast(t, dj.token);
    const hostname = `show-${Math.random().toString(36).slice(2, 8)}.handmade.org`;
    // A wrong value at the name before the domain is added: the email must quote it as found.
    await pdns.setRecord(`_djcast-challenge.${hostname}`, 'TXT', ['djcast-verify=typo']);
    const created = await t.request('POST', '/v1/domains', { token: dj.token, body: { hostname, podcast_id: podcast } });
    expect(created.status).toBe(201);
    const domain = (await created.json()) as DomainJson;
    const txt = domain.records.find((r) => r.type === 'TXT')!;

    // The first poll runs at once: nothing to mail yet.
    await waitFor('the first check', async () => (await get(dj.token, domain.id)).records_found.txt.length > 0);
    expect(smtp.mails).toHaveLength(0);

    await advance(domain.id, 23 * 3600_000);
    await waitFor('a check 23 hours in', async () => {
      const d = await get(dj.token, domain.id);
      return (
        d.state === 'pending_verification' &&
        Date.parse((d as unknown as { last_checked_at: string }).last_checked_at) >= clock.ms - 3600_000
      );
    });
    expect(smtp.mails).toHaveLength(0);

    await advance(domain.id, 1 * 3600_000 + 60_000);
    const mail = await waitFor('the 24-hour email', () => smtp.mails[0]);
    expect(mail.to).toEqual([dj.email]);
    const text = decodeQuotedPrintable(mail.raw);
    expect(text).toContain(`Subject: ${hostname} is not verified yet`);
    expect(text).toContain(txt.name);
    expect(text).toContain(txt.value);
    expect(text).toContain(EDGE);
    expect(text).toContain('"djcast-verify=typo"');
    expect(text).toContain('Troubleshooting');

    // Only once, though it stays unverified through more checks.
    await advance(domain.id, 3 * 3600_000);
    await waitFor('a later check', async () => {
      const d = (await get(dj.token, domain.id)) as unknown as { last_checked_at: string };
      return Date.parse(d.last_checked_at) >= clock.ms - 60_000;
    });
    expect(smtp.mails).toHaveLength(1);

    // The DJ fixes the TXT record: verified at the next poll, then waits for the CNAME they create themselves.
    await pdns.setRecord(txt.name, 'TXT', [txt.value]);
    await advance(domain.id, 60_000);
    await waitFor('verified', async () => (await get(dj.token, domain.id)).state === 'verified');
    expect((await get(dj.token, domain.id)).cname_managed_by).toBeNull();

    await pdns.setRecord(hostname, 'CNAME', [`${EDGE}.`]);
    await advance(domain.id, 60_000);
    // CNAME found -> issuing; no certificate authority is configured here, so issuance fails with that reason.
    const failed = await waitFor('the certificate step', async () => {
      const d = await get(dj.token, domain.id);
      return d.state === 'failed' ? d : null;
    });
    expect(failed.records.every((r) => r.found)).toBe(true);
    expect(failed.failure_reason).toMatch(/certificates are not configured/);
  }, 240_000);
});
