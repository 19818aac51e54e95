/**
 * Webhook delivery on both dialects, end to end: streams change state through
 * the real relay API (a recording launcher and a fake Icecast source), the
 * worker fans each event out and POSTs it through the guarded client to a
 * real receiver on loopback that verifies every request with the
 * `standardwebhooks` package. Retries run on the injected clock: the test
 * moves it to each delivery's next attempt, never sleeps.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { emitEvent } from '../src/events/emit.js';
import { createTestApp, DIALECTS, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

type Json = Record<string, any>;
const HOUR = 3600_000;

describe.each(DIALECTS)('webhook delivery on %s', (dialect) => {
  let t: TestApp;
  let launcher: RecordingLauncher;
  let source: FakeSource;
  let receiver: WebhookReceiver;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let token: string;
  const clock = manualClock();

  beforeAll(async () => {
    source = await startFakeIcecast();
    receiver = await startWebhookReceiver();
    launcher = new RecordingLauncher();
    t = await createTestApp(
      dialect,
      { DJCAST_WEBHOOK_TIMEOUT_SECONDS: '1', DJCAST_WEBHOOK_RETRY_HOURS: '72' },
      { relayLauncher: launcher, clock: clock.now },
    );
    dj = await signUp(t);
    // An API token: the clock moves days ahead, past any access token's life.
    const created = await t.api(dj.token).POST('/v1/tokens', {
      body: { name: 'webhooks', scopes: ['streams:read', 'streams:write', 'webhooks:read', 'webhooks:write', 'playlists:write'] },
    });
    token = created.data!.token;
    t.container.worker.start();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await source.close();
  });

  const api = () => t.api(token);

  async function createEndpoint(body: Json) {
    const res = await t.request('POST', '/v1/webhook-endpoints', { token, body });
    expect(res.status, await res.clone().text()).toBe(201);
    const endpoint = (await res.json()) as Json;
    // Gone after its test, even one that failed half-way: a leftover endpoint would receive the next test's events.
    onTestFinished(async () => {
      await t.request('DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { token });
    });
    return endpoint;
  }

  async function registerStream(): Promise<string> {
    const res = await t.request('POST', '/v1/streams', {
      token,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as Json).id;
  }

  async function beat(streamId: string, state: string) {
    const spec = launcher.specFor(streamId);
    const res = await t.request('POST', `/v1/relays/${spec.relayId}/heartbeat`, { token: spec.relayToken, body: { state } });
    expect(res.status).toBe(200);
  }

  async function attempts(endpointId: string): Promise<Json[]> {
    const { data } = await api().GET('/v1/webhook-endpoints/{id}/deliveries', {
      params: { path: { id: endpointId }, query: { limit: 100 } },
    });
    return (data!.data as Json[]).slice().reverse(); // oldest first
  }

  /** Moves the injected clock to the delivery's next attempt (plus a millisecond). */
  async function advanceToNextAttempt(endpointId: string, deliveryId: string) {
    const last = (await attempts(endpointId)).filter((a) => a.delivery_id === deliveryId).at(-1)!;
    expect(last.next_attempt_at, 'a retry is scheduled').toBeTruthy();
    const due = Date.parse(last.next_attempt_at);
    expect(due).toBeGreaterThan(clock.ms);
    clock.set(due + 1);
  }

  it('delivers each state change of a stream, signed, in order, and lists the events and attempts', async () => {
    const endpoint = await createEndpoint({ url: `${receiver.url}/hooks`, events: ['*'], description: 'all' });
    expect(endpoint.secret).toMatch(/^whsec_/);
    receiver.setSecrets([endpoint.secret]);

    const streamId = await registerStream();
    await beat(streamId, 'live');
    await beat(streamId, 'live'); // not a change: no event

    const got = await waitFor('two verified deliveries', () => (receiver.accepted().length >= 2 ? receiver.accepted() : null));
    expect(got.map((r) => r.event!.type)).toEqual(['stream.starting', 'stream.live']);
    for (const r of got) {
      expect(r.event!.data.object).toMatchObject({ id: streamId, owner_id: dj.userId, name: 'Friday set' });
      expect(r.id).toBe(r.event!.id);
      expect(r.signatures).toHaveLength(1);
    }
    expect(got[1]!.event!.data.object.status).toBe('live');

    // The same events through the API, newest first, exactly one per change.
    const { data: events } = await api().GET('/v1/events', { params: { query: { limit: 10 } } });
    const mine = (events!.data as Json[]).filter((e) => e.data.object.id === streamId);
    expect(mine.map((e) => e.type)).toEqual(['stream.live', 'stream.starting']);
    const { data: one } = await api().GET('/v1/events/{id}', { params: { path: { id: got[0]!.id } } });
    expect(JSON.stringify(one)).toBe(got[0]!.body);

    // The receiver answers before the server records the attempt: wait for the second record.
    const log = await waitFor('two attempts recorded', async () => {
      const recorded = await attempts(endpoint.id);
      return recorded.length >= 2 && recorded.every((a) => a.delivery_state === 'succeeded') ? recorded : null;
    });
    expect(log).toHaveLength(2);
    for (const a of log) {
      expect(a).toMatchObject({
        outcome: 'succeeded',
        status_code: 200,
        response_excerpt: 'thanks',
        delivery_state: 'succeeded',
      });
      expect(a.latency_ms).toBeGreaterThanOrEqual(0);
    }
    await api().DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id: endpoint.id } } });
  });

  it('rejects a forged or stale signature at the receiver', async () => {
    const endpoint = await createEndpoint({ url: `${receiver.url}/hooks`, events: ['stream.live'] });
    receiver.setSecrets([endpoint.secret]);
    const body = JSON.stringify({ id: 'evt_forged', type: 'stream.live' });
    const now = new Date();
    const forged = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).sign('evt_forged', now, body);
    const stale = new Date(Date.now() - 10 * 60_000);
    const send = (signature: string, at: Date) =>
      fetch(`${receiver.url}/hooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'evt_forged',
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
      });
    expect((await send(forged, now)).status).toBe(400);
    expect((await send(new Webhook(endpoint.secret).sign('evt_forged', stale, body), stale)).status).toBe(400);
    expect((await send(new Webhook(endpoint.secret).sign('evt_forged', now, body), now)).status).toBe(200);
    const rejections = receiver.received.filter((r) => r.id === 'evt_forged').map((r) => r.rejection);
    expect(rejections).toEqual(['No matching signature found', 'Message timestamp too old', null]);
    await api().DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id: endpoint.id } } });
  });

  it('retries a failing, then hanging endpoint with backoff on the injected clock, then delivers in order, each once', async () => {
    const endpoint = await createEndpoint({ url: `${receiver.url}/flaky`, events: ['stream.live', 'stream.reconnecting'] });
    receiver.setSecrets([endpoint.secret]);
    const streamId = await registerStream();
    await beat(streamId, 'live');
    await waitFor('stream.live delivered', () => receiver.accepted().find((r) => r.event?.data?.object?.id === streamId));
    const before = receiver.received.length;

    receiver.setMode('fail');
    await beat(streamId, 'reconnecting');
    const first = await waitFor('the first failed attempt', async () => {
      const log = (await attempts(endpoint.id)).filter((a) => a.event_type === 'stream.reconnecting');
      return log.length === 1 ? log[0] : null;
    });
    expect(first).toMatchObject({
      outcome: 'http_error',
      status_code: 500,
      response_excerpt: 'receiver is down for maintenance',
    });
    expect(first.delivery_state).toBe('pending');
    // The next change of the same stream waits behind it.
    await beat(streamId, 'live');
    const { data: events } = await api().GET('/v1/events', { params: { query: { type: 'stream.live', limit: 1 } } });
    const secondLive = (events!.data[0] as Json).id as string;
    await waitFor('the later event is waiting', async () => {
      const row = await t.container.db.kysely
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('event_id', '=', secondLive)
        .where('endpoint_id', '=', endpoint.id)
        .executeTakeFirst();
      return row?.state === 'waiting';
    });

    // Second attempt: the receiver takes the request and never answers.
    receiver.setMode('hang');
    await advanceToNextAttempt(endpoint.id, first.delivery_id);
    const second = await waitFor('the timed-out attempt', async () => {
      const log = (await attempts(endpoint.id)).filter((a) => a.delivery_id === first.delivery_id);
      return log.length === 2 ? log[1] : null;
    });
    expect(second).toMatchObject({ outcome: 'timeout', status_code: null, attempt: 2 });

    // Third attempt: it has recovered.
    receiver.setMode('ok');
    await advanceToNextAttempt(endpoint.id, first.delivery_id);
    await waitFor('both events delivered', async () => {
      const log = await attempts(endpoint.id);
      return log.filter((a) => a.outcome === 'succeeded').length >= 3 ? log : null;
    });
    const after = receiver.received.slice(before);
    const accepted = after.filter((r) => r.answered === 200).map((r) => r.event!.type);
    expect(accepted).toEqual(['stream.reconnecting', 'stream.live']);
    // Every request for the failing event carried the same webhook-id, and it was accepted exactly once.
    const reconnecting = after.filter((r) => r.event?.type === 'stream.reconnecting');
    expect(new Set(reconnecting.map((r) => r.id)).size).toBe(1);
    expect(reconnecting.map((r) => r.answered)).toEqual([500, null, 200]);

    // Backoff: the waits grow (5 s then 30 s, each ±20 %), measured on the injected clock.
    const log = (await attempts(endpoint.id)).filter((a) => a.delivery_id === first.delivery_id);
    const gaps = log.slice(1).map((a, i) => Date.parse(a.created_at) - Date.parse(log[i]!.created_at));
    expect(gaps[0]).toBeGreaterThanOrEqual(4_000);
    expect(gaps[0]).toBeLessThanOrEqual(6_500);
    expect(gaps[1]).toBeGreaterThanOrEqual(24_000);
    expect(gaps[1]).toBeLessThanOrEqual(37_000);

    const metrics = await t.container.metrics.registry.metrics();
    expect(metrics).toMatch(/webhook_delivery_attempts_total\{outcome="timeout"\} [1-9]/);
    expect(metrics).toMatch(/webhook_delivery_attempts_total\{outcome="http_error"\} [1-9]/);
    expect(metrics).toMatch(/webhook_delivery_queue_age_seconds 0/);
    await api().DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id: endpoint.id } } });
  }, 120_000);

  it('disables an endpoint that fails for the whole retry window and mails its owner', async () => {
    const endpoint = await createEndpoint({ url: `${receiver.url}/down`, events: ['stream.offline'] });
    receiver.setSecrets([endpoint.secret]);
    receiver.setMode('fail');
    const streamId = await registerStream();
    const started = clock.ms;
    await beat(streamId, 'offline');
    let delivery = '';
    for (let n = 1; ; n++) {
      const log = await waitFor(`attempt ${n}`, async () => {
        const all = await attempts(endpoint.id);
        return all.length === n ? all : null;
      });
      delivery = log[0]!.delivery_id;
      const last = log.at(-1)!;
      if (last.delivery_state === 'failed') break;
      expect(n, 'gives up within the window').toBeLessThan(40);
      await advanceToNextAttempt(endpoint.id, delivery);
    }
    expect(clock.ms - started).toBeGreaterThanOrEqual(72 * HOUR);
    expect(clock.ms - started).toBeLessThan(90 * HOUR);
    const { data: after } = await api().GET('/v1/webhook-endpoints/{id}', { params: { path: { id: endpoint.id } } });
    expect(after).toMatchObject({ enabled: false });
    expect(after!.disabled_reason).toMatch(/72 hours/);
    const mail = await t.container.db.kysely
      .selectFrom('outbox')
      .selectAll()
      .where('kind', '=', 'webhook.endpoint_disabled')
      .execute();
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({ to_address: dj.email });
    expect(mail[0]!.body_text).toContain(endpoint.id);
    expect(mail[0]!.body_text).not.toContain(endpoint.secret);
    const metrics = await t.container.metrics.registry.metrics();
    expect(metrics).toMatch(/webhook_deliveries_total\{outcome="failed"\} 1/);
    // A disabled endpoint gets nothing new.
    receiver.setMode('ok');
    const count = receiver.received.length;
    await beat(streamId, 'live');
    await beat(streamId, 'offline');
    const { data: latest } = await api().GET('/v1/events', { params: { query: { type: 'stream.offline', limit: 1 } } });
    await waitFor('the event fanned out', async () => {
      const e = await t.container.db.kysely
        .selectFrom('events')
        .select('fanned_out')
        .where('id', '=', latest!.data[0]!.id)
        .executeTakeFirst();
      return e?.fanned_out === 1;
    });
    expect(receiver.received.slice(count).filter((r) => r.path === '/down')).toEqual([]);
  }, 180_000);

  it('signs with both secrets during a rotation overlap, and resends an event on request', async () => {
    const endpoint = await createEndpoint({ url: `${receiver.url}/rotating`, events: ['stream.starting'] });
    receiver.setSecrets([endpoint.secret]);
    receiver.setMode('ok');
    const streamId = await registerStream();
    const original = await waitFor('stream.starting delivered', () =>
      receiver.accepted().find((r) => r.path === '/rotating' && r.event?.data?.object?.id === streamId),
    );
    const rotated = await t.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {
      token,
      body: { overlap_seconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    const fresh = (await rotated.json()) as Json;
    expect(fresh.secret).toMatch(/^whsec_/);
    expect(fresh.secret).not.toBe(endpoint.secret);
    expect(fresh.secret_rotation_ends_at).toBeTruthy();

    const resend = await t.request('POST', `/v1/events/${original.id}/resend`, { token, body: { endpoint_id: endpoint.id } });
    expect(resend.status).toBe(202);
    const count = receiver.received.filter((r) => r.path === '/rotating').length;
    const again = await waitFor('the resent event', () => receiver.received.filter((r) => r.path === '/rotating')[count]);
    expect(again.id).toBe(original.id);
    expect(again.body).toBe(original.body);
    expect(again.signatures).toHaveLength(2);
    // A receiver holding only the old secret, or only the new one, verifies it.
    const headers = {
      'webhook-id': again.id,
      'webhook-timestamp': again.timestamp,
      'webhook-signature': again.signatures.join(' '),
    };
    expect(() => new Webhook(endpoint.secret).verify(again.body, headers)).not.toThrow();
    expect(() => new Webhook(fresh.secret).verify(again.body, headers)).not.toThrow();

    // After the overlap only the new secret signs.
    clock.advance(2 * HOUR);
    await t.request('POST', `/v1/events/${original.id}/resend`, { token, body: {} });
    const last = await waitFor('the second resend', () => receiver.received.filter((r) => r.path === '/rotating')[count + 1]);
    expect(last.signatures).toHaveLength(1);
    const lastHeaders = { 'webhook-id': last.id, 'webhook-timestamp': last.timestamp, 'webhook-signature': last.signatures[0]! };
    expect(() => new Webhook(fresh.secret).verify(last.body, lastHeaders)).not.toThrow();
    expect(() => new Webhook(endpoint.secret).verify(last.body, lastHeaders)).toThrow();
    await api().DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id: endpoint.id } } });
  });

  it('writes the event only when its transaction commits (the outbox rolls back with it)', async () => {
    const db = t.container.db.kysely;
    const streamId = await registerStream();
    const row = await db.selectFrom('streams').selectAll().where('id', '=', streamId).executeTakeFirstOrThrow();
    const object = t.container.streams.view(row);
    let emitted = '';
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.updateTable('streams').set({ status: 'live' }).where('id', '=', streamId).execute();
        emitted = (await emitEvent(tx, { type: 'stream.live', ownerId: dj.userId, object: { ...object, status: 'live' } })).id;
        throw new Error('the state change failed after the event was written');
      }),
    ).rejects.toThrow(/state change failed/);
    expect(emitted).toMatch(/^evt_/);
    expect(await db.selectFrom('events').selectAll().where('id', '=', emitted).execute()).toEqual([]);
    expect(await db.selectFrom('jobs').selectAll().where('resource_id', '=', emitted).execute()).toEqual([]);

    // Committed: the event and the job that fans it out exist together.
    const committed = await db.transaction().execute(async (tx) => {
      await tx.updateTable('streams').set({ status: 'live' }).where('id', '=', streamId).execute();
      return (await emitEvent(tx, { type: 'stream.live', ownerId: dj.userId, object: { ...object, status: 'live' } })).id;
    });
    expect(await db.selectFrom('events').select('type').where('id', '=', committed).execute()).toEqual([{ type: 'stream.live' }]);
    expect(await db.selectFrom('jobs').select('kind').where('resource_id', '=', committed).execute()).toEqual([
      { kind: 'events.fanout' },
    ]);
    // An object that is not what the catalog promises fails the change.
    await expect(
      db
        .transaction()
        .execute((tx) => emitEvent(tx, { type: 'stream.live', ownerId: dj.userId, object: { id: streamId } as never })),
    ).rejects.toThrow();
  });

  it('refuses endpoint URLs on internal addresses unless private URLs are allowed', async () => {
    const strict = await createTestApp(dialect, { DJCAST_ALLOW_PRIVATE_URLS: 'false' });
    try {
      const user = await signUp(strict);
      for (const url of ['http://127.0.0.1:9/hook', 'http://[::1]/hook', 'http://10.0.0.8/hook', 'http://localhost/hook']) {
        const res = await strict.request('POST', '/v1/webhook-endpoints', { token: user.token, body: { url, events: ['*'] } });
        expect(res.status, url).toBe(422);
        expect(((await res.json()) as Json).code).toBe('url_not_allowed');
      }
      const bad = await strict.request('POST', '/v1/webhook-endpoints', {
        token: user.token,
        body: { url: 'ftp://example.com/hook', events: ['*'] },
      });
      expect(bad.status).toBe(400);
    } finally {
      await strict.close();
    }
  });
});
