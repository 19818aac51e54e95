// Monetization through the API on SQLite and Postgres (stories 5001, 5002) in
// local test mode: plans (features as JSONB with a GIN index on Postgres),
// subscriptions and their states, and THE paywall: a matrix generated from
// the spec's playback operations, for every kind of caller.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainFeatureFilter } from '../src/features/billing/repository.js';
import { EnclosureSigner } from '../src/features/podcasts/enclosure-signing.js';
import { deriveKey, loadOrCreateSecret } from '../src/secrets.js';
import {
  DIALECTS,
  createTestApp,
  manualClock,
  signUp,
  signUpAdmin,
  startFakeIcecast,
  RecordingLauncher,
  type FakeSource,
  type TestApp,
} from './harness.js';
import { insertReadyPreroll } from './ads-support.js';
import { insertReadyUpload } from './uploads-support.js';

type Json = Record<string, any>;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const document = parse(readFileSync(path.join(root, 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { operationId: string; tags?: string[] }>>;
};
/** Every playback operation in the document: the routes the paywall guards. */
const playbackOps = Object.entries(document.paths).flatMap(([route, methods]) =>
  Object.entries(methods)
    .filter(([, op]) => op.tags?.includes('playback'))
    .map(([method, op]) => ({ route, method: method.toUpperCase(), operationId: op.operationId })),
);
/** Playback operations that serve no paid media themselves, and why. */
const NOT_PAYWALLED: Record<string, string> = {
  getPodcastFeed: 'the public feed lists episodes; its enclosures carry no listener and the paywall shuts them (getEpisodeMedia)',
  getEpisodeChapters: 'chapter titles are metadata, like the feed',
  getPodcastArtwork: 'cover art is public',
  getArtwork: 'stream and playlist artwork is public (it is on the page and in share previews)',
};

const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.0,\nseg-7.ts\n';

describe.each(DIALECTS)('monetization on %s (local test mode)', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  const launcher = new RecordingLauncher();
  const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
  let dj: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, {}, { relayLauncher: launcher, clock: clock.now });
    dj = await signUp(t);
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  /** The server's enclosure signer (its key derives from the data dir's secret), to sign for any listener. */
  const enclosureSigner = () =>
    new EnclosureSigner(
      deriveKey(
        loadOrCreateSecret(t.container.config.auth.jwtSecret, t.container.config.dataDir, 'jwt-secret'),
        'podcast-enclosures',
      ),
      clock.now,
    );

  const call = async (method: string, url: string, token?: string, body?: unknown) => {
    const res = await t.request(method, url, { token, body });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Json,
    };
  };
  const createPlan = async (body: Json, token = dj.token) => {
    const res = await call('POST', '/v1/plans', token, { currency: 'usd', billing_interval: 'month', ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const subscribe = async (planId: string, token: string) => {
    const res = await call('POST', '/v1/subscriptions', token, { plan_id: planId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  describe('plans', () => {
    it('/healthz says billing runs in local test mode', async () => {
      const res = await call('GET', '/healthz');
      expect(res.body.backends.billing).toBe('local');
    });

    it('a DJ creates a plan with monetization:write; it says provider local and stores the features array', async () => {
      const plan = await createPlan({ name: 'Gold', price_cents: 499, currency: 'USD', features: ['ad-free', 'hq-audio'] });
      expect(plan).toMatchObject({
        name: 'Gold',
        price_cents: 499,
        currency: 'usd',
        billing_interval: 'month',
        features: ['ad-free', 'hq-audio'],
        unlocks: 'all',
        status: 'active',
        provider: 'local',
        provider_price_id: null,
      });
      expect((await call('GET', `/v1/plans/${plan.id}`, dj.token)).body.features).toEqual(['ad-free', 'hq-audio']);
    });

    it('a listener (no monetization:write) cannot create plans; bad bodies are 400', async () => {
      const listener = await signUp(t, { role: 'listener' });
      const res = await call('POST', '/v1/plans', listener.token, {
        name: 'x',
        price_cents: 1,
        currency: 'usd',
        billing_interval: 'month',
      });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('missing_scope');
      for (const bad of [
        { billing_interval: 'week' },
        { currency: 'dollars' },
        { features: ['Not A Feature!'] },
        { price_cents: 4.5 },
      ]) {
        const r = await call('POST', '/v1/plans', dj.token, {
          name: 'x',
          price_cents: 1,
          currency: 'usd',
          billing_interval: 'month',
          ...bad,
        });
        expect(r.status, JSON.stringify(bad)).toBe(400);
      }
    });

    it('filters plans by feature with ?feature= (JSONB containment on Postgres, served by the GIN index)', async () => {
      const other = await signUp(t);
      const adFree = await createPlan({ name: 'No ads', price_cents: 300, features: ['ad-free'] }, other.token);
      const plain = await createPlan({ name: 'Plain', price_cents: 100, features: ['early-access'] }, other.token);
      const res = await call('GET', '/v1/plans?feature=ad-free', other.token);
      expect(res.body.data.map((p: Json) => p.id)).toEqual([adFree.id]);
      const all = await call('GET', '/v1/plans', other.token);
      expect(all.body.data.map((p: Json) => p.id)).toEqual([plain.id, adFree.id]);
      if (dialect === 'postgres') {
        const db = t.container.db.kysely;
        await db.transaction().execute(async (tx) => {
          const { sql } = await import('kysely');
          await sql`set local enable_seqscan = off`.execute(tx);
          expect(await explainFeatureFilter(tx, 'ad-free')).toContain('plans_features');
        });
      }
    });

    it('a price change makes a new price for new subscribers; existing subscribers keep theirs; archived plans leave the public list', async () => {
      const plan = await createPlan({ name: 'Silver', price_cents: 200 });
      const listener = await signUp(t, { role: 'listener' });
      const before = await subscribe(plan.id, listener.token);
      const changed = await call('PATCH', `/v1/plans/${plan.id}`, dj.token, { price_cents: 250, features: ['ad-free'] });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ price_cents: 250, features: ['ad-free'] });
      expect((await call('GET', `/v1/subscriptions/${before.id}`, listener.token)).body.price_cents).toBe(200);
      const later = await signUp(t, { role: 'listener' });
      expect((await subscribe(plan.id, later.token)).price_cents).toBe(250);

      const listed = await call('GET', `/v1/djs/${dj.userId}/plans`);
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((p: Json) => p.id)).toContain(plan.id);
      expect(listed.body.data[0].subscribe_url).toBe('http://djcast.test/v1/subscriptions');
      expect((await call('DELETE', `/v1/plans/${plan.id}`, dj.token)).status).toBe(204);
      expect((await call('GET', `/v1/djs/${dj.userId}/plans`)).body.data.map((p: Json) => p.id)).not.toContain(plan.id);
      const refused = await call('POST', '/v1/subscriptions', (await signUp(t, { role: 'listener' })).token, {
        plan_id: plan.id,
      });
      expect(refused.status).toBe(409);
      // The archived plan's subscribers still stand.
      expect((await call('GET', `/v1/subscriptions/${before.id}`, listener.token)).body.entitled).toBe(true);
    });

    it('another DJ can neither read nor change a plan', async () => {
      const plan = await createPlan({ name: 'Mine', price_cents: 100 });
      const other = await signUp(t);
      expect((await call('GET', `/v1/plans/${plan.id}`, other.token)).status).toBe(403);
      expect((await call('PATCH', `/v1/plans/${plan.id}`, other.token, { name: 'x' })).status).toBe(403);
      expect((await call('DELETE', `/v1/plans/${plan.id}`, other.token)).status).toBe(403);
    });
  });

  describe('subscriptions', () => {
    it('subscribe, list, no duplicates, cancel at period end (still plays), portal link; events for the DJ', async () => {
      const plan = await createPlan({ name: 'Bronze', price_cents: 100, features: ['ad-free'] });
      const listener = await signUp(t, { role: 'listener' });
      const sub = await subscribe(plan.id, listener.token);
      expect(sub).toMatchObject({
        status: 'active',
        entitled: true,
        provider: 'local',
        plan_id: plan.id,
        dj_id: dj.userId,
        listener_id: listener.userId,
      });
      expect(Date.parse(sub.current_period_end) - clock.ms).toBeGreaterThan(27 * 86400_000);
      expect((await call('POST', '/v1/subscriptions', listener.token, { plan_id: plan.id })).status).toBe(409);
      expect((await call('POST', '/v1/subscriptions', dj.token, { plan_id: plan.id })).status).toBe(409);
      expect((await call('GET', '/v1/subscriptions', listener.token)).body.data.map((s: Json) => s.id)).toContain(sub.id);
      expect((await call('GET', '/v1/subscriptions?role=dj', dj.token)).body.data.map((s: Json) => s.id)).toContain(sub.id);
      expect(await t.container.hasFeature(listener.userId, dj.userId, 'ad-free')).toBe(true);
      expect(await t.container.hasFeature(listener.userId, dj.userId, 'hq-audio')).toBe(false);

      const canceled = await call('POST', `/v1/subscriptions/${sub.id}/cancel`, listener.token, {});
      expect(canceled.body).toMatchObject({ status: 'active', cancel_at_period_end: true, entitled: true });
      const portal = await call('POST', `/v1/subscriptions/${sub.id}/portal`, listener.token);
      expect(portal.body).toEqual({ url: `http://djcast.test/v1/subscriptions/${sub.id}`, provider: 'local' });
      // The DJ may read it but not cancel it; a stranger may do neither.
      expect((await call('POST', `/v1/subscriptions/${sub.id}/cancel`, dj.token, {})).status).toBe(403);
      const stranger = await signUp(t, { role: 'listener' });
      expect((await call('GET', `/v1/subscriptions/${sub.id}`, stranger.token)).status).toBe(403);

      const events = await call('GET', '/v1/events?limit=100', dj.token);
      const types = events.body.data.filter((e: Json) => e.data.object.id === sub.id).map((e: Json) => e.type);
      expect(types.sort()).toEqual(['subscription.created', 'subscription.updated']);
    });

    it('past_due (local state) mails the listener and stops the entitlement; active again restores it; the period ending lapses it', async () => {
      const plan = await createPlan({ name: 'Grace', price_cents: 100, features: ['ad-free'] });
      const listener = await signUp(t, { role: 'listener' });
      const sub = await subscribe(plan.id, listener.token);
      const pastDue = await call('POST', `/v1/subscriptions/${sub.id}/local-state`, dj.token, { status: 'past_due' });
      expect(pastDue.body).toMatchObject({ status: 'past_due', entitled: false });
      const logged = t.logs.filter(
        (l) => l.event === 'mail.outbox' && l.to === listener.email && l.mail_kind === 'subscription.payment_failed',
      );
      expect(logged).toHaveLength(1);
      expect(await t.container.hasFeature(listener.userId, dj.userId, 'ad-free')).toBe(false);
      const active = await call('POST', `/v1/subscriptions/${sub.id}/local-state`, listener.token, { status: 'active' });
      expect(active.body).toMatchObject({ status: 'active', entitled: true });
      // No renewal arrives: past the period end and the grace window, it no longer plays.
      const saved = clock.ms;
      clock.set(Date.parse(active.body.current_period_end) + 4 * 86400_000);
      // (The listener's access token has long expired too: ask the entitlement function directly.)
      expect(await t.container.hasFeature(listener.userId, dj.userId, 'ad-free')).toBe(false);
      clock.set(saved);
    });
  });

  describe('the paywall, for every playback operation in the spec', () => {
    type Caller = 'anonymous' | 'listener without' | 'active' | 'past_due' | 'cancelled' | 'owner' | 'admin' | 'another DJ';
    const MAY_PLAY: Caller[] = ['active', 'owner', 'admin'];
    const CALLERS: Caller[] = [
      'anonymous',
      'listener without',
      'active',
      'past_due',
      'cancelled',
      'owner',
      'admin',
      'another DJ',
    ];
    const tokens = {} as Record<Caller, string | undefined>;
    const users = {} as Record<Caller, string | undefined>;
    const ids = {} as Record<'str' | 'pls' | 'upl' | 'pod' | 'epi', string>;
    let plan: Json;
    let prerollId: string;

    beforeAll(async () => {
      const owner = await signUp(t);
      const stream = await call('POST', '/v1/streams', owner.token, {
        name: 'paid set',
        source_url: `${source.url}/live`,
        monetization_enabled: true,
      });
      expect(stream.status, JSON.stringify(stream.body)).toBe(201);
      ids.str = stream.body.id;
      const relay = launcher.specFor(ids.str);
      await t.request('POST', `/v1/relays/${relay.relayId}/heartbeat`, { token: relay.relayToken, body: { state: 'live' } });
      await t.container.blobs.put(`streams/${ids.str}/live/live.m3u8`, PLAYLIST, {
        contentType: 'application/vnd.apple.mpegurl',
      });
      await t.container.blobs.put(`streams/${ids.str}/live/seg-7.ts`, Buffer.alloc(188 * 4, 7), { contentType: 'video/mp2t' });
      ids.upl = await insertReadyUpload(t, owner.userId);
      prerollId = await insertReadyPreroll(t, owner.userId, ids.str, ids.upl);
      await t.container.blobs.put(`uploads/audio/${ids.upl}/hls/index.m3u8`, '#EXTM3U\n#EXTINF:6,\nsegment_00000.ts\n', {
        contentType: 'application/vnd.apple.mpegurl',
      });
      await t.container.blobs.put(`uploads/audio/${ids.upl}/hls/segment_00000.ts`, Buffer.alloc(188 * 4, 1), {
        contentType: 'video/mp2t',
      });
      const playlist = await call('POST', '/v1/playlists', owner.token, {
        title: 'paid mix',
        items: [{ upload_id: ids.upl }],
        monetization_enabled: true,
      });
      expect(playlist.status, JSON.stringify(playlist.body)).toBe(201);
      ids.pls = playlist.body.id;
      const podcast = await call('POST', '/v1/podcasts', owner.token, {
        title: 'paid show',
        description: 'd',
        author: 'a',
        category: 'Music',
        monetization_enabled: true,
      });
      ids.pod = podcast.body.id;
      const episode = await call('POST', `/v1/podcasts/${ids.pod}/episodes`, owner.token, {
        title: 'ep',
        upload_id: await insertReadyUpload(t, owner.userId),
      });
      expect(episode.status, JSON.stringify(episode.body)).toBe(201);
      ids.epi = episode.body.id;
      // One plan unlocks all four (the upload by name: uploads are never "monetized" themselves).
      plan = await createPlan({ name: 'Paid', price_cents: 500, unlocks: [ids.str, ids.pls, ids.pod, ids.upl] }, owner.token);

      tokens.owner = owner.token;
      users.owner = owner.userId;
      tokens.admin = (await signUpAdmin(t)).token;
      users.admin = (await call('GET', '/v1/me', tokens.admin)).body.id;
      const other = await signUp(t);
      tokens['another DJ'] = other.token;
      users['another DJ'] = other.userId;
      for (const who of ['listener without', 'active', 'past_due', 'cancelled'] as const) {
        const l = await signUp(t, { role: 'listener' });
        tokens[who] = l.token;
        users[who] = l.userId;
        if (who === 'listener without') continue;
        const sub = await subscribe(plan.id, l.token);
        if (who === 'past_due')
          await call('POST', `/v1/subscriptions/${sub.id}/local-state`, owner.token, { status: 'past_due' });
        if (who === 'cancelled')
          expect((await call('POST', `/v1/subscriptions/${sub.id}/cancel`, l.token, { at_period_end: false })).body.status).toBe(
            'canceled',
          );
      }
    });

    /** A feed token minted by the DJ for the caller (personal feeds are keyed by listener, not by bearer). */
    const personalFeedUrl = async (who: Caller) => {
      if (!users[who]) return `/podcasts/${ids.pod}/feeds/not-a-real-token-xxxxxxxxxxxxxxxx/rss.xml`;
      const res = await call('POST', `/v1/podcasts/${ids.pod}/feed-tokens`, tokens.owner, { user_id: users[who] });
      return new URL(res.body.feed_url).pathname;
    };

    /** The request for an operation as a caller makes it, or null when the operation is exempt. */
    const requestFor = async (
      operationId: string,
      who: Caller,
    ): Promise<{ url: string; token?: string | undefined; deniedStatus?: number }> => {
      const token = tokens[who];
      switch (operationId) {
        case 'getLivePlaylist':
          return { url: `/streams/${ids.str}/live.m3u8`, token };
        case 'getLiveSegment':
          return { url: `/streams/${ids.str}/live/seg-7.ts`, token };
        case 'getLivePrerollSegment':
          return { url: `/streams/${ids.str}/ads/${prerollId}/segment_00000.ts`, token };
        case 'getStreamNowPlaying':
          return { url: `/streams/${ids.str}/now-playing.json`, token };
        case 'getUploadHls':
          return { url: `/uploads/audio/${ids.upl}/hls/index.m3u8`, token };
        case 'getPlaylistHls':
          return { url: `/playlists/${ids.pls}/stream.m3u8`, token };
        case 'getPlaylistSegment':
          return { url: `/playlists/${ids.pls}/hls/${ids.upl}/segment_00000.ts`, token };
        case 'streamPlaylistMp3':
          return { url: `/playlists/${ids.pls}/stream.mp3`, token };
        case 'getPersonalPodcastFeed':
          // Anonymous has no personal feed: an unknown token is a 404, like a revoked one.
          return { url: await personalFeedUrl(who), deniedStatus: who === 'anonymous' ? 404 : 403 };
        case 'getEpisodeMedia': {
          // Anonymous: the enclosure as the public feed lists it (no listener in its signature).
          if (who === 'anonymous') {
            const xml = await (await t.request('GET', `/podcasts/${ids.pod}/rss.xml`)).text();
            const listed = /<enclosure url="([^"]+)"/.exec(xml)?.[1]?.replaceAll('&amp;', '&');
            expect(listed, xml).toBeTruthy();
            const u = new URL(listed!);
            return { url: `${u.pathname}${u.search}` };
          }
          // Everyone else: an enclosure validly signed for them, as their personal feed would carry it.
          const signature = enclosureSigner().sign(ids.epi, users[who]!);
          const query = new URLSearchParams(Object.entries(signature).map(([k, v]) => [k, String(v)] as [string, string]));
          return { url: `/podcasts/${ids.pod}/episodes/${ids.epi}/media.mp3?${query}` };
        }
        default:
          throw new Error(
            `paywall matrix: teach requestFor() how to call ${operationId}, or list it in NOT_PAYWALLED with a reason`,
          );
      }
    };

    const guarded = playbackOps.filter((o) => !(o.operationId in NOT_PAYWALLED));
    it('covers the protected playback operations of the document', () => {
      expect(guarded.map((o) => o.operationId).sort()).toEqual(
        [
          'getEpisodeMedia',
          'getLivePlaylist',
          'getLivePrerollSegment',
          'getLiveSegment',
          'getPersonalPodcastFeed',
          'getPlaylistHls',
          'getPlaylistSegment',
          'getStreamNowPlaying',
          'getUploadHls',
          'streamPlaylistMp3',
        ].sort(),
      );
    });

    const cases = guarded.flatMap((o) => CALLERS.map((who) => [o.operationId, who, o] as const));
    it.each(cases)('%s as %s', async (operationId, who) => {
      const req = await requestFor(operationId, who);
      const res = await t.request('GET', req.url, { token: req.token });
      const text = await res.text();
      if (MAY_PLAY.includes(who)) {
        expect(res.status, `${operationId} as ${who}: ${text.slice(0, 300)}`).toBeLessThan(300);
        return;
      }
      const denied = req.deniedStatus ?? 403;
      expect(res.status, `${operationId} as ${who}: ${text.slice(0, 300)}`).toBe(denied);
      if (denied !== 403) return;
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = JSON.parse(text) as Json;
      if (operationId === 'getUploadHls') {
        // An upload is never monetized: a stranger hears it is private, even though a plan names it.
        expect(problem.code).toBe('forbidden');
        return;
      }
      expect(problem.code).toBe('subscription_required');
      expect(problem.plans.map((p: Json) => p.id)).toContain(plan.id);
      expect(problem.subscribe_url).toMatch(/\/v1\/djs\/usr_[0-9a-z]+\/plans$/);
      if (who === 'past_due') {
        expect(problem.reason).toBe('past_due');
        expect(problem.renew_url).toMatch(/\/v1\/subscriptions\/sub_[0-9a-z]+\/portal$/);
      }
    });

    it('a subscriber’s manifest carries a short-lived token, which still plays after the bearer is gone but not once it expires', async () => {
      const res = await t.request('GET', `/playlists/${ids.pls}/stream.m3u8`, { token: tokens.active });
      const manifest = await res.text();
      const token = /token=([^&\s]+)/.exec(manifest)?.[1];
      expect(token, manifest).toBeTruthy();
      expect((await t.request('GET', `/playlists/${ids.pls}/stream.m3u8?token=${token}`)).status).toBe(200);
      const saved = clock.ms;
      clock.set(saved + 301_000);
      expect((await t.request('GET', `/playlists/${ids.pls}/stream.m3u8?token=${token}`)).status).toBe(403);
      clock.set(saved);
    });

    it('cancelling now stops new grants at once', async () => {
      const l = await signUp(t, { role: 'listener' });
      const sub = await subscribe(plan.id, l.token);
      expect((await t.request('GET', `/playlists/${ids.pls}/stream.m3u8`, { token: l.token })).status).toBe(200);
      await call('POST', `/v1/subscriptions/${sub.id}/cancel`, l.token, { at_period_end: false });
      expect((await t.request('GET', `/playlists/${ids.pls}/stream.m3u8`, { token: l.token })).status).toBe(403);
    });
  });
});
