/**
 * The live-relay API on both dialects, with a recording launcher and
 * loopback fakes for the source servers: registration and its refusals,
 * heartbeats and their auth, status and listener counting, playback access,
 * cache headers, reconfiguration, deletion, metrics and the watchdog.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import HLS from 'hls-parser';
import { DIALECTS, createTestApp, manualClock, signUp, signUpAdmin, waitFor, type TestApp } from './harness.js';
import { RecordingLauncher, closedPort, startFakeIcecast, startSilentServer, type FakeSource } from './relay-fakes.js';

type Json = Record<string, any>;

const PLAYLIST = [
  '#EXTM3U',
  '#EXT-X-VERSION:3',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-TARGETDURATION:6',
  '#EXT-X-MEDIA-SEQUENCE:7',
  '#EXTINF:6.000,',
  'seg-7.ts',
  '#EXTINF:6.000,',
  'seg-8.ts',
  '#EXTINF:6.000,',
  'seg-9.ts',
  '',
].join('\n');

describe.each(DIALECTS)('live relay API on %s', (dialect) => {
  let t: TestApp;
  let launcher: RecordingLauncher;
  let source: FakeSource;
  let locked: FakeSource;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    source = await startFakeIcecast();
    locked = await startFakeIcecast({ credentials: { username: 'source', password: 'hackme-123' } });
    launcher = new RecordingLauncher();
    t = await createTestApp(
      dialect,
      { DJCAST_SOURCE_PROBE_TIMEOUT_SECONDS: '1.5', DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS: '2' },
      { relayLauncher: launcher },
    );
    dj = await signUp(t);
    stranger = await signUp(t);
  });
  afterAll(async () => {
    await t.close();
    await source.close();
    await locked.close();
  });

  async function register(body: Json = {}, token = dj.token) {
    const res = await t.request('POST', '/v1/streams', {
      token,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live', ...body },
    });
    return { res, body: (await res.json()) as Json };
  }

  async function beat(streamId: string, body: Json, token = launcher.specFor(streamId).relayToken) {
    const relayId = launcher.specFor(streamId).relayId;
    return t.request('POST', `/v1/relays/${relayId}/heartbeat`, { token, body });
  }

  async function publish(streamId: string, playlist = PLAYLIST) {
    await t.container.blobs.put(`streams/${streamId}/live/live.m3u8`, playlist, { contentType: 'application/vnd.apple.mpegurl' });
    for (const n of [7, 8, 9])
      await t.container.blobs.put(`streams/${streamId}/live/seg-${n}.ts`, Buffer.alloc(188 * 4, n), {
        contentType: 'video/mp2t',
      });
  }

  describe('POST /v1/streams', () => {
    it('probes the source, stores the stream as starting and launches a worker with a hashed per-relay token', async () => {
      const before = launcher.callsOf('start').length;
      const { res, body } = await register();
      expect(res.status).toBe(201);
      expect(body).toMatchObject({
        status: 'starting',
        source_kind: 'icecast',
        mount: '/live',
        visibility: 'public',
        monetization_enabled: false,
      });
      expect(body.playback_url).toBe(`http://djcast.test/streams/${body.id}/live.m3u8`);
      expect(source.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/live', '/status-json.xsl']));

      const starts = launcher.callsOf('start');
      expect(starts.length).toBe(before + 1);
      const spec = starts.at(-1)!.spec!;
      expect(spec).toMatchObject({
        streamId: body.id,
        sourceUrl: `${source.url}/live`,
        sourceKind: 'icecast',
        statsUrl: `${source.url}/status-json.xsl`,
        apiUrl: 'http://djcast.test',
        audio: 'aac',
        paywall: { enabled: false, visibility: 'public' },
        timing: { segmentSeconds: 6, offlineAfterMs: 300_000, heartbeatMs: 2000 },
      });
      expect(spec.relayId).toMatch(/^rly_[0-9a-z]{26}$/);
      expect(spec.relayToken).toMatch(/^djl_/);
      expect(spec.storageEnv).toEqual({ DJCAST_STORAGE: 'local', DJCAST_STORAGE_DIR: path.join(t.dataDir, 'media') });

      const relay = await t.container.db.kysely
        .selectFrom('relays')
        .selectAll()
        .where('stream_id', '=', body.id)
        .executeTakeFirstOrThrow();
      expect(relay.id).toBe(spec.relayId);
      expect(relay.token_hash).toBe(createHash('sha256').update(spec.relayToken).digest('hex'));
      expect(JSON.stringify(relay)).not.toContain(spec.relayToken);
      expect(relay).toMatchObject({ state: 'starting', bitrate_kbps: 128, content_type: 'audio/mpeg', source_kind: 'icecast' });
    });

    it('sends the source credentials to the source and the worker, stores them encrypted, never returns or logs them', async () => {
      const password = 'hackme-123';
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'locked', source_url: `${locked.url}/live`, source_username: 'source', source_password: password },
      });
      const body = (await res.json()) as Json;
      expect(res.status).toBe(201);
      expect(body.has_source_credentials).toBe(true);
      expect(JSON.stringify(body)).not.toContain(password);
      expect(locked.requests.find((r) => r.path === '/live')?.authorization).toBe(
        `Basic ${Buffer.from(`source:${password}`).toString('base64')}`,
      );
      expect(launcher.specFor(body.id)).toMatchObject({ sourceUsername: 'source', sourcePassword: password });
      const row = await t.container.db.kysely
        .selectFrom('streams')
        .selectAll()
        .where('id', '=', body.id)
        .executeTakeFirstOrThrow();
      expect(row.source_password_enc).toBeTruthy();
      expect(row.source_password_enc).not.toContain(password);
      expect(t.rawLogs.join('\n')).not.toContain(password);
      const got = await t.request('GET', `/v1/streams/${body.id}`, { token: dj.token });
      expect(await got.text()).not.toContain(password);
    });

    it('refuses a closed port with 422 source_unreachable, without the connection error (that goes to the log)', async () => {
      const port = await closedPort();
      const before = launcher.calls.length;
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'x', source_url: `http://127.0.0.1:${port}/live` },
      });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as Json;
      expect(problem.code).toBe('source_unreachable');
      expect(problem.detail).toBe('The source could not be reached, or did not answer as expected.');
      expect(JSON.stringify(problem)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|connection_error|reason/);
      expect(t.rawLogs.join('\n')).toMatch(/"event":"outbound.failed".*ECONNREFUSED/);
      expect(launcher.calls.length).toBe(before);
    });

    it('refuses a source that never answers with 422 source_unreachable (timeout)', async () => {
      const silent = await startSilentServer();
      try {
        const started = Date.now();
        const res = await t.request('POST', '/v1/streams', {
          token: dj.token,
          body: { name: 'x', source_url: `${silent.url}/live` },
        });
        expect(res.status).toBe(422);
        const problem = (await res.json()) as Json;
        expect(problem.code).toBe('source_unreachable');
        expect(problem.detail).toBe('The source could not be reached, or did not answer as expected.'); // a timeout looks like a refusal
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await silent.close();
      }
    });

    it('refuses a web page with 422 source_not_audio', async () => {
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'x', source_url: `${source.url}/page.html` },
      });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as Json;
      expect(problem.code).toBe('source_not_audio');
      expect(problem.connection_error).toBeUndefined();
    });

    it('refuses wrong source credentials with 422 source_unauthorized', async () => {
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'x', source_url: `${locked.url}/live`, source_username: 'source', source_password: 'wrong-one' },
      });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as Json;
      expect(problem.code).toBe('source_unauthorized');
      expect(problem.connection_error).toBeUndefined();
    });

    it('answers 503 and keeps no stream when the worker cannot be started', async () => {
      launcher.failNextStart = new Error('spawn ENOENT');
      const { res, body } = await register({ name: 'doomed' });
      expect(res.status).toBe(503);
      expect(body.code).toBe('unavailable');
      const rows = await t.container.db.kysely.selectFrom('streams').select('id').where('name', '=', 'doomed').execute();
      expect(rows).toEqual([]);
    });
  });

  describe('heartbeats', () => {
    let streamId: string;
    let otherStreamId: string;
    beforeAll(async () => {
      streamId = (await register({ name: 'hb' })).body.id;
      otherStreamId = (await register({ name: 'hb-other' })).body.id;
    });

    it('refuses no token, a user token and another relay’s token with 401', async () => {
      const relayId = launcher.specFor(streamId).relayId;
      const body = { state: 'live' };
      const none = await t.request('POST', `/v1/relays/${relayId}/heartbeat`, { body });
      expect(none.status).toBe(401);
      expect(((await none.json()) as Json).code).toBe('unauthenticated');
      const user = await t.request('POST', `/v1/relays/${relayId}/heartbeat`, { token: dj.token, body });
      expect(user.status).toBe(401);
      const other = await beat(streamId, body, launcher.specFor(otherStreamId).relayToken);
      expect(other.status).toBe(401);
      expect(((await other.json()) as Json).code).toBe('invalid_token');
      const status = (await (await t.request('GET', `/v1/streams/${streamId}/status`, { token: dj.token })).json()) as Json;
      expect(status.state).toBe('starting');
    });

    it('moves the stream starting -> live, records the numbers and appends a listener sample', async () => {
      const res = await beat(streamId, {
        state: 'live',
        listener_count: 5,
        relay_connections: 2,
        cpu_usage: 12.5,
        segment_lag_seconds: 1.25,
        current_track: 'Tone - 440',
        bitrate_kbps: 128,
        media_sequence: 9,
        source_kind: 'icecast',
        content_type: 'audio/mpeg',
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ stream_id: streamId, state: 'live' });
      const stream = (await (await t.request('GET', `/v1/streams/${streamId}`, { token: dj.token })).json()) as Json;
      expect(stream.status).toBe('live');
      const status = (await (await t.request('GET', `/v1/streams/${streamId}/status`, { token: dj.token })).json()) as Json;
      expect(status).toMatchObject({
        stream_id: streamId,
        relay_id: launcher.specFor(streamId).relayId,
        state: 'live',
        current_track: 'Tone - 440',
        bitrate_kbps: 128,
        listener_count: 3,
        source_listeners: 3,
        hls_listeners: 0,
        cpu_usage: 12.5,
        segment_lag_seconds: 1.25,
        playback_url: `http://djcast.test/streams/${streamId}/live.m3u8`,
      });
      expect(Date.now() - Date.parse(status.last_heartbeat_at)).toBeLessThan(5000);
      const samples = await t.container.db.kysely
        .selectFrom('stream_listener_samples')
        .selectAll()
        .where('stream_id', '=', streamId)
        .execute();
      expect(samples.map((s) => s.listener_count)).toEqual([3]);
    });

    it('validates the body with 400', async () => {
      const res = await beat(streamId, { state: 'dancing' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).code).toBe('validation_failed');
    });

    it('exports relay gauges from heartbeats on /metrics', async () => {
      const text = await (await t.request('GET', '/metrics')).text();
      const relayId = launcher.specFor(streamId).relayId;
      expect(text).toContain(`relay_listener_count{stream_id="${streamId}"} 3`);
      expect(text).toContain(`relay_cpu_usage_percent{stream_id="${streamId}"} 12.5`);
      const ts = new RegExp(
        `relay_last_heartbeat_timestamp_seconds\\{stream_id="${streamId}",relay_id="${relayId}"\\} ([0-9.e+]+)`,
      ).exec(text);
      expect(ts).not.toBeNull();
      expect(Math.abs(Number(ts![1]) - Date.now() / 1000)).toBeLessThan(10);
    });

    it('reports relay_launcher on /healthz', async () => {
      const health = (await (await t.request('GET', '/healthz')).json()) as Json;
      expect(health.backends.relay_launcher).toBe('process');
    });
  });

  describe('status listener counting', () => {
    it('counts distinct HLS sessions (token, user, or address + user agent) plus direct source listeners', async () => {
      // A source of its own: other tests' relays on the shared one would count as relay connections.
      const solo = await startFakeIcecast();
      const streamId = (await register({ name: 'counting', source_url: `${solo.url}/` })).body.id;
      await solo.close();
      await beat(streamId, { state: 'live', listener_count: 1 });
      await publish(streamId);
      const url = `/streams/${streamId}/live.m3u8`;
      const get = (headers: Record<string, string> = {}, query = '') => t.request('GET', url + query, { headers });
      // Two players behind different user agents, one of them twice.
      expect((await get({ 'user-agent': 'VLC/3.0' })).status).toBe(200);
      expect((await get({ 'user-agent': 'VLC/3.0' })).status).toBe(200);
      expect((await get({ 'user-agent': 'AppleCoreMedia/1.0' })).status).toBe(200);
      // A signed-in listener counts once whatever device it uses.
      expect((await get({ authorization: `Bearer ${stranger.token}`, 'user-agent': 'a' })).status).toBe(200);
      expect((await get({ authorization: `Bearer ${stranger.token}`, 'user-agent': 'b' })).status).toBe(200);
      // A playback token counts once.
      const grant = (await (
        await t.request('POST', `/v1/streams/${streamId}/playback-token`, { token: dj.token })
      ).json()) as Json;
      const q = `?token=${encodeURIComponent(grant.token)}`;
      expect((await get({ 'user-agent': 'x' }, q)).status).toBe(200);
      expect((await get({ 'user-agent': 'y' }, q)).status).toBe(200);

      const status = (await (await t.request('GET', `/v1/streams/${streamId}/status`, { token: dj.token })).json()) as Json;
      expect(status).toMatchObject({ hls_listeners: 4, source_listeners: 1, listener_count: 5 });
    });

    it("does not count other streams' relays on the same source mount as listeners", async () => {
      const shared = await startFakeIcecast();
      try {
        const ids: string[] = [];
        for (const name of ['mount-a', 'mount-b', 'mount-c'])
          ids.push((await register({ name, source_url: `${shared.url}/` })).body.id);
        const [a, b, c] = ids as [string, string, string];
        // The source lists 3 relays + 2 real listeners; each relay reports only its own connection.
        expect((await beat(a, { state: 'live', listener_count: 5, relay_connections: 1 })).status).toBe(200);
        expect((await beat(b, { state: 'live', listener_count: 5, relay_connections: 1 })).status).toBe(200);
        expect((await beat(c, { state: 'live', listener_count: 5, relay_connections: 1 })).status).toBe(200);
        const statusOf = async (id: string) =>
          (await (await t.request('GET', `/v1/streams/${id}/status`, { token: dj.token })).json()) as Json;
        expect(await statusOf(c)).toMatchObject({ source_listeners: 2 });
        // A relay with the source's admin password counts every djcast relay itself: never below that.
        expect((await beat(b, { state: 'live', listener_count: 5, relay_connections: 3 })).status).toBe(200);
        expect(await statusOf(b)).toMatchObject({ source_listeners: 2 });
        // A relay that is not live is not connected, so it no longer counts.
        expect((await beat(a, { state: 'reconnecting', listener_count: 0, relay_connections: 0 })).status).toBe(200);
        expect((await beat(c, { state: 'live', listener_count: 4, relay_connections: 1 })).status).toBe(200);
        expect(await statusOf(c)).toMatchObject({ source_listeners: 2 });
      } finally {
        await shared.close();
      }
    });

    it('forgets sessions after two segment durations', async () => {
      const clock = manualClock();
      const short = await createTestApp(
        dialect,
        { DJCAST_RELAY_SEGMENT_SECONDS: '1' },
        { relayLauncher: new RecordingLauncher(), clock: clock.now },
      );
      try {
        const owner = await signUp(short);
        const created = (await (
          await short.request('POST', '/v1/streams', {
            token: owner.token,
            body: { name: 'w', source_url: `${source.url}/live` },
          })
        ).json()) as Json;
        await short.container.blobs.put(`streams/${created.id}/live/live.m3u8`, PLAYLIST);
        const playlist = await short.request('GET', `/streams/${created.id}/live.m3u8`, { headers: { 'user-agent': 'one' } });
        expect(playlist.headers.get('cache-control')).toBe('public, max-age=1');
        const statusOf = async () =>
          ((await (await short.request('GET', `/v1/streams/${created.id}/status`, { token: owner.token })).json()) as Json)
            .hls_listeners;
        expect(await statusOf()).toBe(1);
        clock.advance(1900);
        expect(await statusOf()).toBe(1);
        clock.advance(400);
        expect(await statusOf()).toBe(0);
      } finally {
        await short.close();
      }
    });
  });

  describe('public playback', () => {
    it('answers 404 problem+json while no playlist has been published', async () => {
      const streamId = (await register({ name: 'not yet' })).body.id;
      const res = await t.request('GET', `/streams/${streamId}/live.m3u8`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as Json).detail).toMatch(/not live/);
    });

    it('serves a public stream without auth, with short public caching, an ETag, and immutable segments', async () => {
      const streamId = (await register({ name: 'public' })).body.id;
      await publish(streamId);
      const res = await t.request('GET', `/streams/${streamId}/live.m3u8`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
      expect(res.headers.get('cache-control')).toBe('public, max-age=2');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const etag = res.headers.get('etag');
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const playlist = HLS.parse(await res.text()) as HLS.types.MediaPlaylist;
      expect(playlist.segments.map((s) => s.uri)).toEqual(['live/seg-7.ts', 'live/seg-8.ts', 'live/seg-9.ts']);
      expect(playlist.mediaSequenceBase).toBe(7);

      const again = await t.request('GET', `/streams/${streamId}/live.m3u8`, { headers: { 'if-none-match': etag! } });
      expect(again.status).toBe(304);

      const seg = await t.request('GET', `/streams/${streamId}/live/seg-8.ts`);
      expect(seg.status).toBe(200);
      expect(seg.headers.get('content-type')).toBe('video/mp2t');
      expect(seg.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const bytes = Buffer.from(await seg.arrayBuffer());
      expect(bytes.length).toBe(188 * 4);
      expect(bytes[0]).toBe(8);

      expect((await t.request('GET', `/streams/${streamId}/live/seg-99.ts`)).status).toBe(404);
      expect((await t.request('GET', `/streams/${streamId}/live/..%2Fsecret.ts`)).status).toBe(404);
      expect((await t.request('GET', `/streams/${streamId}/live/live.m3u8`)).status).toBe(404);
    });

    it('a private stream: 403 anonymous and for others, OK for the owner, an admin and a signed token carried into segment URIs', async () => {
      const streamId = (await register({ name: 'private', visibility: 'private' })).body.id;
      await publish(streamId);
      const url = `/streams/${streamId}/live.m3u8`;

      const anon = await t.request('GET', url);
      expect(anon.status).toBe(403);
      expect(((await anon.json()) as Json).code).toBe('forbidden');
      expect((await t.request('GET', url, { token: stranger.token })).status).toBe(403);
      expect((await t.request('GET', `/streams/${streamId}/live/seg-7.ts`)).status).toBe(403);

      const owner = await t.request('GET', url, { token: dj.token });
      expect(owner.status).toBe(200);
      expect(owner.headers.get('cache-control')).toBe('private, max-age=2');
      const admin = await signUpAdmin(t);
      expect((await t.request('GET', url, { token: admin.token })).status).toBe(200);

      const grantRes = await t.request('POST', `/v1/streams/${streamId}/playback-token`, { token: dj.token });
      expect(grantRes.status).toBe(201);
      const grant = (await grantRes.json()) as Json;
      expect(grant.playback_url_with_token).toBe(`http://djcast.test${url}?token=${encodeURIComponent(grant.token)}`);
      expect(Date.parse(grant.expires_at)).toBeGreaterThan(Date.now());
      const withToken = await t.request('GET', `${url}?token=${encodeURIComponent(grant.token)}`);
      expect(withToken.status).toBe(200);
      const playlist = HLS.parse(await withToken.text()) as HLS.types.MediaPlaylist;
      const segUri = playlist.segments[0]!.uri;
      expect(segUri).toBe(`live/seg-7.ts?token=${encodeURIComponent(grant.token)}`);
      const seg = await t.request('GET', `/streams/${streamId}/${segUri}`);
      expect(seg.status).toBe(200);
      expect(seg.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');

      const forged = await t.request('GET', `${url}?token=${encodeURIComponent(grant.token.slice(0, -2))}xx`);
      expect(forged.status).toBe(403);
      // A token for one stream does not open another.
      const otherId = (await register({ name: 'private-2', visibility: 'private' })).body.id;
      await publish(otherId);
      expect((await t.request('GET', `/streams/${otherId}/live.m3u8?token=${encodeURIComponent(grant.token)}`)).status).toBe(403);
      // Only the owner (or an admin) may mint tokens.
      expect((await t.request('POST', `/v1/streams/${streamId}/playback-token`, { token: stranger.token })).status).toBe(403);
    });

    it('a monetized stream: 403 subscription_required for everyone but the owner and admins', async () => {
      const streamId = (await register({ name: 'paid', monetization_enabled: true })).body.id;
      expect(launcher.specFor(streamId).paywall).toEqual({ enabled: true, visibility: 'public' });
      await publish(streamId);
      const url = `/streams/${streamId}/live.m3u8`;
      for (const token of [undefined, stranger.token]) {
        const res = await t.request('GET', url, { token });
        expect(res.status).toBe(403);
        expect(((await res.json()) as Json).code).toBe('subscription_required');
      }
      const seg = await t.request('GET', `/streams/${streamId}/live/seg-7.ts`, { token: stranger.token });
      expect(((await seg.json()) as Json).code).toBe('subscription_required');
      const owner = await t.request('GET', url, { token: dj.token });
      expect(owner.status).toBe(200);
      expect(owner.headers.get('cache-control')).toMatch(/^private/);
      const admin = await signUpAdmin(t);
      expect((await t.request('GET', url, { token: admin.token })).status).toBe(200);
    });
  });

  describe('changes and deletion', () => {
    it('PATCH visibility or monetization restarts the worker with the new paywall and a rotated token', async () => {
      const streamId = (await register({ name: 'reconf' })).body.id;
      const first = launcher.specFor(streamId);
      const restartsBefore = launcher.callsOf('restart').length;
      const renamed = await t.request('PATCH', `/v1/streams/${streamId}`, { token: dj.token, body: { name: 'renamed' } });
      expect(renamed.status).toBe(200);
      expect(launcher.callsOf('restart').length).toBe(restartsBefore);

      const res = await t.request('PATCH', `/v1/streams/${streamId}`, {
        token: dj.token,
        body: { visibility: 'private', monetization_enabled: true },
      });
      expect(res.status).toBe(200);
      const restarts = launcher.callsOf('restart');
      expect(restarts.length).toBe(restartsBefore + 1);
      const spec = restarts.at(-1)!.spec!;
      expect(spec.relayId).toBe(first.relayId);
      expect(spec.paywall).toEqual({ enabled: true, visibility: 'private' });
      expect(spec.relayToken).not.toBe(first.relayToken);
      expect((await beat(streamId, { state: 'live' }, first.relayToken)).status).toBe(401);
      expect((await beat(streamId, { state: 'live' }, spec.relayToken)).status).toBe(200);
      expect(
        (await t.request('PATCH', `/v1/streams/${streamId}`, { token: stranger.token, body: { visibility: 'public' } })).status,
      ).toBe(403);
    });

    it('DELETE stops the worker and empties the stream’s blob prefix', async () => {
      const streamId = (await register({ name: 'bye' })).body.id;
      const relayId = launcher.specFor(streamId).relayId;
      await publish(streamId);
      expect(await t.container.blobs.list(`streams/${streamId}/`)).toHaveLength(4);

      expect((await t.request('DELETE', `/v1/streams/${streamId}`, { token: stranger.token })).status).toBe(403);
      expect(launcher.callsOf('stop').filter((c) => c.relayId === relayId)).toHaveLength(0);

      const res = await t.request('DELETE', `/v1/streams/${streamId}`, { token: dj.token });
      expect(res.status).toBe(204);
      expect(launcher.callsOf('stop').filter((c) => c.relayId === relayId)).toHaveLength(1);
      expect(await t.container.blobs.list(`streams/${streamId}/`)).toEqual([]);
      expect((await t.request('GET', `/v1/streams/${streamId}/status`, { token: dj.token })).status).toBe(404);
      expect((await t.request('GET', `/streams/${streamId}/live.m3u8`)).status).toBe(404);
      const relays = await t.container.db.kysely.selectFrom('relays').select('id').where('id', '=', relayId).execute();
      expect(relays).toEqual([]);
    });

    it('another DJ’s stream: status and playback token are 403 not_owner', async () => {
      const streamId = (await register({ name: 'mine' })).body.id;
      for (const [method, path] of [
        ['GET', `/v1/streams/${streamId}/status`],
        ['POST', `/v1/streams/${streamId}/playback-token`],
      ] as const) {
        const res = await t.request(method, path, { token: stranger.token });
        expect(res.status).toBe(403);
        expect(((await res.json()) as Json).code).toBe('not_owner');
      }
    });
  });

  describe('the stalled-relay watchdog', () => {
    let w: TestApp;
    let wl: RecordingLauncher;
    let owner: Awaited<ReturnType<typeof signUp>>;
    beforeAll(async () => {
      wl = new RecordingLauncher();
      w = await createTestApp(
        dialect,
        { DJCAST_RELAY_HEARTBEAT_TIMEOUT_SECONDS: '1', DJCAST_RELAY_WATCHDOG_INTERVAL_SECONDS: '0.2' },
        { relayLauncher: wl },
      );
      owner = await signUp(w);
      // Timers start in main.ts, not when the container is built.
      w.container.relayWatchdog.start();
    });
    afterAll(() => w.close());

    const mails = (streamId: string) =>
      w.container.db.kysely
        .selectFrom('outbox')
        .selectAll()
        .where('kind', '=', 'relay.stalled')
        .where('body_text', 'like', `%${streamId}%`)
        .execute();

    it('restarts a silent relay through the launcher and mails the DJ once per stall', async () => {
      const created = (await (
        await w.request('POST', '/v1/streams', {
          token: owner.token,
          body: { name: 'Late set', source_url: `${source.url}/live` },
        })
      ).json()) as Json;
      const first = wl.specFor(created.id);
      const beatW = (token: string) =>
        w.request('POST', `/v1/relays/${first.relayId}/heartbeat`, { token, body: { state: 'live' } });
      expect((await beatW(first.relayToken)).status).toBe(200);

      // The watchdog runs on its own interval: wait for it to notice the silence.
      await waitFor('the watchdog to restart the silent relay', () => wl.callsOf('restart').length > 0);
      const restarts = wl.callsOf('restart');
      expect(restarts).toHaveLength(1);
      expect(restarts[0]!.spec!.relayId).toBe(first.relayId);
      // The mail is written after the restart: wait for it too.
      const sent = await waitFor('the stall mail', async () => {
        const rows = await mails(created.id);
        return rows.length > 0 ? rows : null;
      });
      expect(sent).toHaveLength(1);
      expect(sent[0]!.to_address).toBe(owner.email);
      expect(sent[0]!.subject).toContain('Late set');
      const status = (await (await w.request('GET', `/v1/streams/${created.id}/status`, { token: owner.token })).json()) as Json;
      expect(status.state).toBe('reconnecting');

      // Still silent, several passes later: no second restart, no second mail.
      for (let pass = 0; pass < 3; pass++) await w.container.relayWatchdog.tick();
      expect(wl.callsOf('restart')).toHaveLength(1);
      expect(await mails(created.id)).toHaveLength(1);

      // The restarted worker reports (with its new token): the stall is over. Silence again is a new stall.
      const second = wl.specFor(created.id);
      expect((await beatW(first.relayToken)).status).toBe(401);
      expect((await beatW(second.relayToken)).status).toBe(200);
      await waitFor('the second restart', () => wl.callsOf('restart').length >= 2);
      expect(wl.callsOf('restart')).toHaveLength(2);
      await waitFor('the second stall mail', async () => (await mails(created.id)).length >= 2);
      expect(await mails(created.id)).toHaveLength(2);
    });

    it('a relay silent past the offline window shows offline', async () => {
      const clock = manualClock();
      const off = await createTestApp(
        dialect,
        { DJCAST_RELAY_OFFLINE_AFTER_SECONDS: '1', DJCAST_RELAY_WATCHDOG_INTERVAL_SECONDS: '600' },
        { relayLauncher: new RecordingLauncher(), clock: clock.now },
      );
      try {
        const o = await signUp(off);
        const created = (await (
          await off.request('POST', '/v1/streams', { token: o.token, body: { name: 'o', source_url: `${source.url}/live` } })
        ).json()) as Json;
        const state = async () =>
          ((await (await off.request('GET', `/v1/streams/${created.id}/status`, { token: o.token })).json()) as Json).state;
        expect(await state()).toBe('starting');
        clock.advance(900);
        expect(await state()).toBe('starting');
        clock.advance(400);
        expect(await state()).toBe('offline');
      } finally {
        await off.close();
      }
    });

    it('stops every worker when the server closes', async () => {
      const l = new RecordingLauncher();
      const app = await createTestApp(dialect, {}, { relayLauncher: l });
      await app.close();
      expect(l.callsOf('close')).toHaveLength(1);
    });
  });
});

describe('private source addresses', () => {
  it('refuses a loopback source with 422 url_not_allowed unless config allows it', async () => {
    const source = await startFakeIcecast();
    const launcher = new RecordingLauncher();
    const t = await createTestApp('sqlite', { DJCAST_ALLOW_PRIVATE_URLS: 'false' }, { relayLauncher: launcher });
    try {
      const dj = await signUp(t);
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'x', source_url: `${source.url}/live` },
      });
      expect(res.status).toBe(422);
      expect(((await res.json()) as Json).code).toBe('url_not_allowed');
      expect(source.requests).toEqual([]);
      expect(launcher.calls).toEqual([]);
    } finally {
      await t.close();
      await source.close();
    }
  });

  it('answers odd source URLs (IPv6 zone ids, mapped and link-local addresses) with a 400 or 422 problem, never a 500', async () => {
    const launcher = new RecordingLauncher();
    for (const allow of ['false', 'true']) {
      const t = await createTestApp('sqlite', { DJCAST_ALLOW_PRIVATE_URLS: allow }, { relayLauncher: launcher });
      try {
        const dj = await signUp(t);
        const cases: [string, string[]][] = [
          ['http://[fe80::1%25lo]/', ['validation_failed']],
          ['http://[fe80::1%25lo]:8000/live', ['validation_failed']],
          ...(allow === 'false' ? ([['http://[fe80::1]:9/', ['url_not_allowed']]] as [string, string[]][]) : []),
          ['http://[::ffff:127.0.0.1]:9/', allow === 'false' ? ['url_not_allowed'] : ['source_unreachable']],
        ];
        for (const [source_url, codes] of cases) {
          for (const [path, body] of [
            ['/v1/streams', { name: 'x', source_url }],
            ['/v1/playlists', { title: 'x', items: [{ url: source_url }] }],
          ] as const) {
            const res = await t.request('POST', path, { token: dj.token, body });
            const problem = (await res.json()) as Json;
            expect([400, 422], `${path} ${source_url} (private allowed: ${allow})`).toContain(res.status);
            expect(codes, `${path} ${source_url} (private allowed: ${allow})`).toContain(problem.code);
          }
        }
      } finally {
        await t.close();
      }
    }
    expect(launcher.calls.filter((c) => c.op !== 'close')).toEqual([]);
  });
});
