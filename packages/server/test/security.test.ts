/**
 * Generated from openapi.yaml: every secured operation is checked for
 * authentication, scopes, ownership and body validation. A new route is
 * covered the moment it is in the document; a new kind of path id fails
 * here until someone teaches `ownedResource` how to make one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../src/core/scopes.js';
import { DIALECTS, STRONG_PASSWORD, createTestApp, signUp, uniqueEmail, type TestApp } from './harness.js';
import { insertReadyUpload } from './uploads-support.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  'x-required-scope'?: string;
  /** `relay-token`: called by relay workers with their per-relay token, never a user's. */
  'x-auth'?: string;
  parameters?: { name: string; in: string; schema?: { pattern?: string; example?: string } }[];
  requestBody?: { content: Record<string, { schema?: SchemaObject }> };
  responses?: Record<string, { content?: Record<string, { schema?: SchemaObject }> }>;
  /** Route policies (http/openapi.ts): how the body is read, and whether Idempotency-Key replays apply. */
  'x-body'?: string;
  'x-idempotent'?: boolean;
  'x-access'?: 'owner' | 'subscriber';
}

interface SchemaObject {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const document = parse(readFileSync(path.join(root, 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, SchemaObject> };
};
const resolve = (schema: SchemaObject | undefined): SchemaObject | undefined =>
  schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop()!] : schema;

const operations = Object.entries(document.paths).flatMap(([route, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ route, method: method.toUpperCase(), op })),
);
const secured = operations.filter(({ op }) => (op.security ?? []).some((s) => 'bearerAuth' in s));
const relayAuthed = operations.filter(({ op }) => op['x-auth'] === 'relay-token');
const withJsonBody = operations.filter(({ op }) => op.requestBody?.content['application/json'] && op['x-auth'] !== 'relay-token');
const withMultipartBody = secured.filter(({ op }) => op.requestBody?.content['multipart/form-data']);

/** A loopback Icecast lookalike: registering a stream probes its source. */
let source: FakeSource;
beforeAll(async () => {
  source = await startFakeIcecast();
});
afterAll(() => source.close());

/** Creates a resource of the kind a path id names, owned by the given token's user; returns its id. */
async function ownedResource(t: TestApp, token: string, idPrefix: string): Promise<string> {
  const api = t.api(token);
  const created = async (what: string, call: Promise<{ data?: { id: string }; error?: unknown; response: Response }>) => {
    const { data, error, response } = await call;
    if (!data) throw new Error(`security test: could not create ${what}: ${response.status} ${JSON.stringify(error)}`);
    return data.id;
  };
  switch (idPrefix) {
    case 'str':
      return created('a stream', api.POST('/v1/streams', { body: { name: 'owned', source_url: `${source.url}/live` } }));
    case 'tok':
      return created('a token', api.POST('/v1/tokens', { body: { name: 'owned', scopes: ['streams:read'] } }));
    case 'upl':
      return insertReadyUpload(t, await userIdOf(t, token));
    case 'pls': {
      const upload = await insertReadyUpload(t, await userIdOf(t, token));
      return created('a playlist', api.POST('/v1/playlists', { body: { title: 'owned', items: [{ upload_id: upload }] } }));
    }
    case 'whe':
      return created(
        'a webhook endpoint',
        api.POST('/v1/webhook-endpoints', { body: { url: `${source.url}/hook`, events: ['upload.ready'] } }),
      );
    case 'evt': {
      // A playlist of a ready upload is ready at once: its playlist.ready event is the owner's.
      await ownedResource(t, token, 'pls');
      const { data } = await api.GET('/v1/events', { params: { query: { limit: 1 } } });
      if (!data?.data[0]) throw new Error('security test: no event was emitted');
      return data.data[0].id;
    }
    case 'pod':
      return created(
        'a podcast',
        api.POST('/v1/podcasts', { body: { title: 'owned', description: 'owned', author: 'owner', category: 'Music' } }),
      );
    case 'epi': {
      const podcast = await ownedResource(t, token, 'pod');
      const upload = await insertReadyUpload(t, await userIdOf(t, token));
      return created(
        'an episode',
        api.POST('/v1/podcasts/{id}/episodes', {
          params: { path: { id: podcast } },
          body: { title: 'owned', upload_id: upload },
        }),
      );
    }
    case 'dom': {
      const podcast = await ownedResource(t, token, 'pod');
      return created(
        'a domain',
        api.POST('/v1/domains', {
          body: { hostname: `owned-${Math.random().toString(36).slice(2, 10)}.example.com`, podcast_id: podcast },
        }),
      );
    }
    case 'pln':
      return created(
        'a plan',
        api.POST('/v1/plans', { body: { name: 'owned', price_cents: 100, currency: 'usd', billing_interval: 'month' } }),
      );
    case 'sub': {
      // The token's user subscribes to a plan of a DJ of its own (local test-mode billing).
      const seller = await signUp(t);
      const plan = await ownedResource(t, seller.token, 'pln');
      return created('a subscription', api.POST('/v1/subscriptions', { body: { plan_id: plan } }));
    }
    case 'adm': {
      const playlist = await ownedResource(t, token, 'pls');
      const upload = await insertReadyUpload(t, await userIdOf(t, token));
      return created(
        'an ad marker',
        api.POST('/v1/playlists/{id}/ad-markers', {
          params: { path: { id: playlist } },
          body: { position_seconds: 10, duration_seconds: 5, source: { upload_id: upload }, kind: 'mid-roll' },
        }),
      );
    }
    default:
      throw new Error(`security test: teach ownedResource() to create a "${idPrefix}_" resource`);
  }
}

async function userIdOf(t: TestApp, token: string): Promise<string> {
  const { data } = await t.api(token).GET('/v1/me');
  if (!data) throw new Error('security test: GET /v1/me failed');
  return data.id;
}

/** A body that passes validation for an operation on an existing resource, so the ownership check is what answers. */
function validPatchBody(idPrefix: string | undefined, operationId: string): Record<string, unknown> {
  // Webhook endpoints (update, rotate-secret) and events (resend) accept an empty body: every field is optional.
  if (idPrefix === 'whe' || idPrefix === 'evt') return {};
  if (operationId === 'createPodcastFeedToken') return { user_id: 'usr_01jd0v9m3x7k2p8q4r5s6t7u8v' };
  if (operationId === 'createEpisode') return { title: 'x', upload_id: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v' };
  if (operationId === 'setLocalSubscriptionState') return { status: 'active' };
  if (idPrefix === 'sub') return {};
  if (operationId === 'createPlaylistAdMarker')
    return { position_seconds: 10, duration_seconds: 5, source: { upload_id: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v' } };
  if (operationId === 'createStreamAdMarker')
    return { duration_seconds: 5, source: { upload_id: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v' } };
  if (operationId === 'startAdBreak') return { duration_seconds: 5, source: { marker_id: 'adm_01jd0v9m3x7k2p8q4r5s6t7u8v' } };
  return idPrefix === 'pls' || idPrefix === 'epi' || idPrefix === 'pod' ? { title: 'x' } : { name: 'x' };
}

function idPrefixOf(op: Operation): string | undefined {
  const param = op.parameters?.find((p) => p.in === 'path' && p.name === 'id');
  const pattern = param?.schema?.pattern;
  return pattern ? /\^([a-z]{3})_/.exec(pattern)?.[1] : undefined;
}

function urlFor(route: string, id: string): string {
  return route.replace(/\{[^}]+\}/g, id);
}

const FAKE_ID = (prefix = 'str') => `${prefix}_01jd0v9m3x7k2p8q4r5s6t7u8v`;

describe('the document has operations to check', () => {
  it('lists secured operations, each with an operationId and a scope or explicitly none', () => {
    expect(secured.length).toBeGreaterThanOrEqual(8);
    for (const { op } of operations) expect(op.operationId).toBeTruthy();
  });
});

/** Property names whose values are credentials: a response holding one must never be stored for replay. */
const SECRET_FIELD = /(^|_)(token|secret|password)$/;

function secretFields(schema: SchemaObject | undefined, depth = 0): string[] {
  const s = resolve(schema);
  if (!s || depth > 4) return [];
  if (s.items) return secretFields(s.items, depth + 1);
  return Object.entries(s.properties ?? {}).flatMap(([name, prop]) => [
    ...(SECRET_FIELD.test(name) ? [name] : []),
    ...secretFields(prop, depth + 1),
  ]);
}

describe('every operation declares its request policies on the route', () => {
  it.each(operations.map((o) => [`${o.method} ${o.route}`, o] as const))('%s', (_name, { method, op }) => {
    const content = op.requestBody?.content ?? {};
    // How the body is read: streamed bodies (multipart uploads) enforce their own limit; everything else is capped JSON.
    expect(op['x-body'], 'x-body').toBe(content['multipart/form-data'] ? 'stream' : 'json');
    if (content['application/json']) expect(op['x-body']).toBe('json');
    // Replays only for a caller's own POST/PATCH, and never of a response that carries a credential.
    const replays = op['x-idempotent'];
    expect(typeof replays, 'x-idempotent is declared').toBe('boolean');
    const isUserSecured = (op.security ?? []).some((sec) => 'bearerAuth' in sec);
    if (replays) expect(isUserSecured && (method === 'POST' || method === 'PATCH')).toBe(true);
    const secrets = Object.entries(op.responses ?? {})
      .filter(([status]) => status.startsWith('2'))
      .flatMap(([, r]) => secretFields(r.content?.['application/json']?.schema));
    if (secrets.length > 0)
      expect(replays, `${op.operationId} answers with ${secrets.join(', ')}; declare idempotent: false`).toBe(false);
  });

  it('marks the credential-bearing and streamed operations as not replayed', () => {
    const byId = Object.fromEntries(operations.map((o) => [o.op.operationId, o.op]));
    expect(byId.createToken?.['x-idempotent']).toBe(false);
    expect(byId.createStreamPlaybackToken?.['x-idempotent']).toBe(false);
    expect(byId.createUpload?.['x-body']).toBe('stream');
    expect(byId.registerStream?.['x-idempotent']).toBe(true);
  });
});

describe.each(DIALECTS)('every secured operation on %s', (dialect) => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;
  const launcher = new RecordingLauncher();
  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { relayLauncher: launcher });
    owner = await signUp(t);
    stranger = await signUp(t);
  });
  afterAll(() => t.close());

  it.each(secured.map((s) => [s.op.operationId, s] as const))(
    '%s: no token -> 401 problem+json',
    async (_id, { route, method, op }) => {
      const res = await t.request(method, urlFor(route, FAKE_ID(idPrefixOf(op))), { body: op.requestBody ? {} : undefined });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('unauthenticated');
    },
  );

  it.each(secured.filter((s) => s.op['x-required-scope']).map((s) => [s.op.operationId, s] as const))(
    '%s: a token without the scope -> 403 naming it',
    async (_id, { route, method, op }) => {
      const required = op['x-required-scope']!;
      const other = SCOPES.find((s) => s !== required && s !== 'tokens:write')!;
      const created = await t.api(owner.token).POST('/v1/tokens', { body: { name: 'narrow', scopes: [other] } });
      const narrow = created.data?.token ?? '';
      const res = await t.request(method, urlFor(route, FAKE_ID(idPrefixOf(op))), {
        token: narrow,
        body: op.requestBody ? {} : undefined,
      });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { code: string; missing_scopes: string[] };
      expect(body.code).toBe('missing_scope');
      expect(body.missing_scopes).toEqual([required]);
    },
  );

  const onResource = secured.filter((s) => idPrefixOf(s.op) && s.op['x-access'] !== 'subscriber');
  const forSubscribers = secured.filter((s) => idPrefixOf(s.op) && s.op['x-access'] === 'subscriber');
  it('marks only the personal-feed route as open to subscribers of another DJ', () => {
    expect(forSubscribers.map((s) => s.op.operationId)).toEqual(['createMyPodcastFeed']);
  });
  it.each(forSubscribers.map((s) => [s.op.operationId, s] as const))(
    "%s: another DJ's resource without a subscription -> refused, nothing made",
    async (_id, { route, method, op }) => {
      const id = await ownedResource(t, owner.token, idPrefixOf(op)!);
      const res = await t.request(method, urlFor(route, id), { token: stranger.token });
      // A free podcast: 409 (its public feed serves everyone); a monetized one: 403 naming the plans.
      expect([403, 409]).toContain(res.status);
      expect(['subscription_required', 'conflict']).toContain(((await res.json()) as { code: string }).code);
    },
  );
  it.each(onResource.map((s) => [s.op.operationId, s] as const))(
    "%s: another DJ's resource -> 403",
    async (_id, { route, method, op }) => {
      const id = await ownedResource(t, owner.token, idPrefixOf(op)!);
      const res = await t.request(method, urlFor(route, id), {
        token: stranger.token,
        body: op.requestBody ? validPatchBody(idPrefixOf(op), op.operationId) : undefined,
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('not_owner');
    },
  );

  it.each(withJsonBody.map((s) => [s.op.operationId, s] as const))(
    '%s: a malformed body -> 400 problem+json',
    async (_id, { route, method, op }) => {
      const prefix = idPrefixOf(op);
      const id = prefix ? await ownedResource(t, owner.token, prefix) : FAKE_ID();
      for (const body of ['{"unterminated', JSON.stringify({ unexpected_field: true }), '[]']) {
        const res = await t.request(method, urlFor(route, id), { token: owner.token, body });
        expect(res.status, `${method} ${route} with ${body}`).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = (await res.json()) as { code: string; request_id: string };
        expect(problem.code).toBe('validation_failed');
        expect(problem.request_id).toBeTruthy();
      }
    },
  );

  it.each(withMultipartBody.map((s) => [s.op.operationId, s] as const))(
    '%s: not multipart -> 415, a form without the file -> 400 naming it, both problem+json',
    async (_id, { route, method }) => {
      const json = await t.request(method, route, { token: owner.token, body: { file: 'x' } });
      expect(json.status).toBe(415);
      expect(json.headers.get('content-type')).toContain('application/problem+json');
      expect(((await json.json()) as { code: string }).code).toBe('unsupported_media_type');

      const boundary = 'securityTestBoundary';
      const noFile = await t.request(method, route, {
        token: owner.token,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nno file here\r\n--${boundary}--\r\n`,
      });
      expect(noFile.status).toBe(400);
      expect(noFile.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await noFile.json()) as { code: string; errors: { path: string }[] };
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors.map((e) => e.path)).toContain('file');
    },
  );

  const jsonBodied = operations.filter(({ op }) => op.requestBody?.content['application/json']);
  it.each(jsonBodied.map((s) => [s.op.operationId, s] as const))(
    '%s: a JSON body over 1 MiB -> 413 problem+json, before authentication',
    async (_id, { route, method, op }) => {
      const res = await t.request(method, urlFor(route, FAKE_ID(idPrefixOf(op))), { body: `{"x":"${'a'.repeat(1024 * 1024)}"}` });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('payload_too_large');
    },
  );

  /**
   * For every operation with a JSON body: a body the operation accepts, and the token to send it with.
   * A NUL byte in any of its strings must be a 400 naming the field, never reach the database.
   */
  async function acceptedBody(operationId: string): Promise<{ url?: string; token?: string; body: Record<string, unknown> }> {
    switch (operationId) {
      case 'register':
        return { body: { email: uniqueEmail(), password: STRONG_PASSWORD, display_name: 'DJ Nul', role: 'dj' } };
      case 'login':
        return { body: { email: owner.email, password: STRONG_PASSWORD } };
      case 'refreshToken':
      case 'logout':
        return { body: { refresh_token: (await signUp(t)).refresh_token } };
      case 'createToken':
        return { token: owner.token, body: { name: 'ci', scopes: ['streams:read'] } };
      case 'registerStream':
        return {
          token: owner.token,
          body: {
            name: 'set',
            source_url: `${source.url}/live`,
            mount: '/live',
            visibility: 'public',
            source_username: 'source',
            source_password: 'hackme',
            archive_to_podcast: await ownedResource(t, owner.token, 'pod'),
            artwork_id: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v',
          },
        };
      case 'updateStream':
        return {
          url: `/v1/streams/${await ownedResource(t, owner.token, 'str')}`,
          token: owner.token,
          body: {
            name: 'renamed',
            visibility: 'public',
            source_username: 'source',
            source_password: 'hackme',
            archive_to_podcast: await ownedResource(t, owner.token, 'pod'),
            artwork_id: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v',
          },
        };
      case 'createPlaylist':
      case 'updatePlaylist': {
        const upload = await insertReadyUpload(t, owner.userId);
        return {
          url: operationId === 'updatePlaylist' ? `/v1/playlists/${await ownedResource(t, owner.token, 'pls')}` : undefined,
          token: owner.token,
          body: {
            title: 'mix',
            visibility: 'public',
            items: [{ upload_id: upload }, { url: `${source.url}/track.mp3` }],
            artwork_id: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v',
          },
        };
      }
      case 'createPodcast':
        return {
          token: owner.token,
          body: {
            title: 'show',
            description: 'notes',
            author: 'DJ',
            owner_email: 'dj@example.com',
            language: 'en',
            category: 'Music',
            subcategory: 'Music History',
            type: 'episodic',
            visibility: 'public',
            artwork_id: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v',
          },
        };
      case 'updatePodcast':
        return {
          url: `/v1/podcasts/${await ownedResource(t, owner.token, 'pod')}`,
          token: owner.token,
          body: {
            title: 'renamed',
            description: 'notes',
            author: 'DJ',
            owner_email: 'dj@example.com',
            language: 'en',
            category: 'Music',
            subcategory: 'Music History',
            type: 'serial',
            visibility: 'public',
            artwork_id: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v',
          },
        };
      case 'createEpisode':
        return {
          url: `/v1/podcasts/${await ownedResource(t, owner.token, 'pod')}/episodes`,
          token: owner.token,
          body: {
            title: 'ep',
            description: 'notes',
            upload_id: await insertReadyUpload(t, owner.userId),
            media_url: `${source.url}/ep.mp3`,
            published_at: '2030-01-01T00:00:00Z',
            episode_type: 'full',
          },
        };
      case 'updateEpisode':
        return {
          url: `/v1/episodes/${await ownedResource(t, owner.token, 'epi')}`,
          token: owner.token,
          body: {
            title: 'ep',
            description: 'notes',
            upload_id: await insertReadyUpload(t, owner.userId),
            media_url: `${source.url}/ep.mp3`,
            published_at: '2030-01-01T00:00:00Z',
            episode_type: 'full',
          },
        };
      case 'createPodcastFeedToken':
        return {
          url: `/v1/podcasts/${await ownedResource(t, owner.token, 'pod')}/feed-tokens`,
          token: owner.token,
          body: { user_id: owner.userId },
        };
      case 'sendRelayHeartbeat': {
        const relay = launcher.specFor(await ownedResource(t, owner.token, 'str'));
        return {
          url: `/v1/relays/${relay.relayId}/heartbeat`,
          token: relay.relayToken,
          body: { state: 'live', current_track: 'Artist - Title', source_kind: 'icecast', content_type: 'audio/mpeg' },
        };
      }
      case 'createWebhookEndpoint':
        return {
          token: owner.token,
          body: { url: `${source.url}/hook`, events: ['upload.ready'], description: 'ci', enabled: true },
        };
      case 'updateWebhookEndpoint':
        return {
          url: `/v1/webhook-endpoints/${await ownedResource(t, owner.token, 'whe')}`,
          token: owner.token,
          body: { url: `${source.url}/hook2`, events: ['*'], description: 'renamed' },
        };
      case 'rotateWebhookSecret':
        return {
          url: `/v1/webhook-endpoints/${await ownedResource(t, owner.token, 'whe')}/rotate-secret`,
          token: owner.token,
          body: { overlap_seconds: 60 },
        };
      case 'resendEvent':
        return {
          url: `/v1/events/${await ownedResource(t, owner.token, 'evt')}/resend`,
          token: owner.token,
          body: { endpoint_id: await ownedResource(t, owner.token, 'whe') },
        };
      case 'createDomain':
        return {
          token: owner.token,
          body: {
            hostname: `nul-${Math.random().toString(36).slice(2, 10)}.example.com`,
            podcast_id: await ownedResource(t, owner.token, 'pod'),
          },
        };
      case 'createPlan':
        return {
          token: owner.token,
          body: {
            name: 'Gold',
            description: 'no ads',
            price_cents: 499,
            currency: 'usd',
            billing_interval: 'month',
            features: ['ad-free'],
            unlocks: ['str_01jd0v9m3x7k2p8q4r5s6t7u8v'],
          },
        };
      case 'updatePlan':
        return {
          url: `/v1/plans/${await ownedResource(t, owner.token, 'pln')}`,
          token: owner.token,
          body: { name: 'Gold', description: 'no ads', price_cents: 599, features: ['ad-free'], unlocks: 'all' },
        };
      case 'createSubscription': {
        const seller = await signUp(t);
        return {
          token: owner.token,
          body: { plan_id: await ownedResource(t, seller.token, 'pln'), payment_method_id: 'pm_card_visa' },
        };
      }
      case 'cancelSubscription':
        return { url: `/v1/subscriptions/${await ownedResource(t, owner.token, 'sub')}/cancel`, token: owner.token, body: {} };
      case 'setLocalSubscriptionState':
        return {
          url: `/v1/subscriptions/${await ownedResource(t, owner.token, 'sub')}/local-state`,
          token: owner.token,
          body: { status: 'past_due' },
        };
      case 'createPlaylistAdMarker':
        return {
          url: `/v1/playlists/${await ownedResource(t, owner.token, 'pls')}/ad-markers`,
          token: owner.token,
          body: {
            position_seconds: 10,
            duration_seconds: 5,
            source: { upload_id: await insertReadyUpload(t, owner.userId) },
            kind: 'mid-roll',
          },
        };
      case 'createStreamAdMarker':
        return {
          url: `/v1/streams/${await ownedResource(t, owner.token, 'str')}/ad-markers`,
          token: owner.token,
          body: {
            starts_at: '2030-01-01T20:00:00Z',
            duration_seconds: 5,
            source: { url: `${source.url}/ad.mp3` },
            kind: 'mid-roll',
          },
        };
      case 'startAdBreak':
        // Valid, so the stream's state answers (409: not live) and not the validation.
        return {
          url: `/v1/streams/${await ownedResource(t, owner.token, 'str')}/ad-breaks`,
          token: owner.token,
          body: { duration_seconds: 5, source: { url: `${source.url}/ad.mp3` } },
        };
      default:
        throw new Error(`security test: teach acceptedBody() a body that ${operationId} accepts`);
    }
  }

  function stringPaths(value: unknown, at: string[] = []): string[][] {
    if (typeof value === 'string') return [at];
    if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...at, String(i)]));
    if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...at, k]));
    return [];
  }

  function withNul(body: Record<string, unknown>, at: string[]): Record<string, unknown> {
    const copy = structuredClone(body);
    let node = copy as Record<string, unknown>;
    for (const key of at.slice(0, -1)) node = node[key] as Record<string, unknown>;
    const last = at.at(-1)!;
    node[last] = `${String(node[last]).slice(0, 2)}\u0000${String(node[last]).slice(2)}`;
    return copy;
  }

  it.each(jsonBodied.map((s) => [s.op.operationId, s] as const))(
    '%s: a NUL byte in any string field -> 400 problem+json naming the field',
    async (_id, { route, method, op }) => {
      const sample = await acceptedBody(op.operationId);
      // The sample covers every string field the schema declares, so a new field is checked the day it is added.
      const schema = resolve(op.requestBody?.content['application/json']?.schema);
      const stringFields = Object.entries(schema?.properties ?? {})
        .filter(([, p]) => [resolve(p)?.type].flat().includes('string'))
        .map(([name]) => name);
      for (const field of stringFields)
        expect(sample.body, `acceptedBody(${op.operationId}) sets ${field}`).toHaveProperty(field);

      const url = sample.url ?? urlFor(route, FAKE_ID(idPrefixOf(op)));
      for (const at of stringPaths(sample.body)) {
        const res = await t.request(method, url, { token: sample.token, body: withNul(sample.body, at) });
        expect(res.status, `${method} ${url} with a NUL in ${at.join('.')}`).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = (await res.json()) as { code: string; errors: { path: string }[] };
        expect(problem.code).toBe('validation_failed');
        expect(problem.errors.map((e) => e.path)).toContain(at.join('.'));
      }
      // The same body without the NUL passes validation, so the NUL is what was refused.
      const clean = await t.request(method, url, { token: sample.token, body: sample.body });
      expect(clean.status, `${method} ${url} clean: ${await clean.clone().text()}`).not.toBe(400);
    },
  );

  describe.each(relayAuthed.map((s) => [s.op.operationId, s] as const))(
    '%s (relay token, not a user token)',
    (_id, { route, method, op }) => {
      // Two relays, through the API: a registered stream starts one; the launcher is handed its token.
      let mine: { relayId: string; relayToken: string };
      let theirs: { relayId: string; relayToken: string };
      beforeAll(async () => {
        mine = launcher.specFor(await ownedResource(t, owner.token, 'str'));
        theirs = launcher.specFor(await ownedResource(t, stranger.token, 'str'));
      });
      const url = () => route.replace(/\{relay_id\}/, mine.relayId);
      const body = op.requestBody ? { state: 'live' } : undefined;

      it('is marked as relay-token only in the document', () => {
        expect(op.security).toEqual([{ relayToken: [] }]);
      });

      it('no token -> 401 problem+json', async () => {
        const res = await t.request(method, url(), { body });
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      });

      it("another relay's token -> 401", async () => {
        const res = await t.request(method, url(), { token: theirs.relayToken, body });
        expect(res.status).toBe(401);
      });

      it("a user's token, even the stream owner's -> 401", async () => {
        for (const token of [owner.token, stranger.token])
          expect((await t.request(method, url(), { token, body })).status).toBe(401);
      });

      it('its own token with a malformed body -> 400, a valid one -> 2xx', async () => {
        if (op.requestBody) {
          for (const bad of ['{"unterminated', '[]', JSON.stringify({ unexpected_field: true })]) {
            const res = await t.request(method, url(), { token: mine.relayToken, body: bad });
            expect(res.status, bad).toBe(400);
            expect(((await res.json()) as { code: string }).code).toBe('validation_failed');
          }
        }
        const ok = await t.request(method, url(), { token: mine.relayToken, body });
        expect(ok.status).toBeLessThan(300);
      });
    },
  );
});
