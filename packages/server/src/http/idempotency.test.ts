import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../core/scopes.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from '../testing/index.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from '../../test/relay-fakes.js';

describe.each(DIALECTS)('Idempotency-Key on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  let launcher: RecordingLauncher;
  beforeAll(async () => {
    source = await startFakeIcecast();
    launcher = new RecordingLauncher();
    t = await createTestApp(dialect, {}, { relayLauncher: launcher });
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  const body = () => ({ name: 'Friday set', source_url: `${source.url}/live` });
  const count = async (ownerId: string) =>
    (await t.container.db.kysely.selectFrom('streams').select('id').where('owner_id', '=', ownerId).execute()).length;

  it('replays the first response to a retry instead of registering the stream twice', async () => {
    const dj = await signUp(t);
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await t.request('POST', '/v1/streams', { token: dj.token, body: body(), headers });
    const second = await t.request('POST', '/v1/streams', { token: dj.token, body: body(), headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(((await second.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    expect(await count(dj.userId)).toBe(1);
  });

  it('refuses the same key for a different request with 422', async () => {
    const dj = await signUp(t);
    const headers = { 'idempotency-key': 'retry-2' };
    expect((await t.request('POST', '/v1/streams', { token: dj.token, body: body(), headers })).status).toBe(201);
    const other = await t.request('POST', '/v1/streams', { token: dj.token, body: { ...body(), name: 'Another' }, headers });
    expect(other.status).toBe(422);
    expect(((await other.json()) as { code: string }).code).toBe('idempotency_key_reused');
    expect(await count(dj.userId)).toBe(1);
  });

  it('keeps keys per user', async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const headers = { 'idempotency-key': 'shared-key' };
    await t.request('POST', '/v1/streams', { token: a.token, body: body(), headers });
    const res = await t.request('POST', '/v1/streams', { token: b.token, body: body(), headers });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(b.userId)).toBe(1);
  });

  it('does not keep a server error, so the retry runs again', async () => {
    const dj = await signUp(t);
    const headers = { 'idempotency-key': 'after-503' };
    launcher.failNextStart = new Error('cannot spawn');
    const failed = await t.request('POST', '/v1/streams', { token: dj.token, body: body(), headers });
    expect(failed.status).toBe(503);
    const retried = await t.request('POST', '/v1/streams', { token: dj.token, body: body(), headers });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(dj.userId)).toBe(1);
  });

  it('never stores responses that carry secrets (API tokens)', async () => {
    const dj = await signUp(t);
    const headers = { 'idempotency-key': 'token-key' };
    const first = (await (
      await t.request('POST', '/v1/tokens', { token: dj.token, body: { name: 'ci', scopes: ['streams:read'] }, headers })
    ).json()) as {
      token: string;
    };
    const rows = await t.container.db.kysely.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(first.token);
  });

  const apiToken = async (owner: string, scopes: Scope[]) => {
    const { data, error } = await t.api(owner).POST('/v1/tokens', { body: { name: 'ci', scopes } });
    if (!data) throw new Error(`could not create an API token: ${JSON.stringify(error)}`);
    return data.token;
  };

  it('checks the scope before replaying: a token without it gets 403, not the stored response', async () => {
    const dj = await signUp(t);
    const writer = await apiToken(dj.token, ['streams:write']);
    const narrow = await apiToken(dj.token, ['tokens:write']);
    const headers = { 'idempotency-key': 'scope-before-replay' };
    const first = await t.request('POST', '/v1/streams', { token: writer, body: body(), headers });
    expect(first.status).toBe(201);
    const replay = await t.request('POST', '/v1/streams', { token: narrow, body: body(), headers });
    expect(replay.status).toBe(403);
    expect(replay.headers.get('idempotent-replayed')).toBeNull();
    expect(((await replay.json()) as { code: string }).code).toBe('missing_scope');
  });

  it('keeps keys per credential: another token of the same user runs the request itself', async () => {
    const dj = await signUp(t);
    const a = await apiToken(dj.token, ['streams:write']);
    const b = await apiToken(dj.token, ['streams:write']);
    const headers = { 'idempotency-key': 'per-credential' };
    const first = await t.api(a).POST('/v1/streams', { body: body(), headers });
    const viaB = await t.api(b).POST('/v1/streams', { body: body(), headers });
    const viaSession = await t.api(dj.token).POST('/v1/streams', { body: body(), headers });
    expect([first.response.status, viaB.response.status, viaSession.response.status]).toEqual([201, 201, 201]);
    expect(viaB.response.headers.get('idempotent-replayed')).toBeNull();
    expect(viaSession.response.headers.get('idempotent-replayed')).toBeNull();
    expect(new Set([first.data?.id, viaB.data?.id, viaSession.data?.id]).size).toBe(3);
    const again = await t.api(a).POST('/v1/streams', { body: body(), headers });
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');
    expect(again.data?.id).toBe(first.data?.id);
    expect(await count(dj.userId)).toBe(3);
  });

  it('never stores or replays a playback token: a retry is not a replay and the table holds none', async () => {
    const dj = await signUp(t);
    const created = await t.api(dj.token).POST('/v1/streams', { body: body() });
    const id = created.data?.id ?? '';
    const reader = await apiToken(dj.token, ['streams:read']);
    const headers = { 'idempotency-key': 'playback-token' };
    const mint = () => t.api(reader).POST('/v1/streams/{id}/playback-token', { params: { path: { id } }, headers });
    const first = await mint();
    const second = await mint();
    expect([first.response.status, second.response.status]).toEqual([201, 201]);
    expect(second.response.headers.get('idempotent-replayed')).toBeNull();
    const firstToken = first.data?.token ?? '';
    expect(firstToken).not.toBe('');
    const rows = await t.container.db.kysely.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(firstToken);
  });

  it('refuses a malformed key with 400', async () => {
    const dj = await signUp(t);
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: body(),
      headers: { 'idempotency-key': 'x'.repeat(300) },
    });
    expect(res.status).toBe(400);
  });
});
