// An API token's last_used_at: recorded on first use, then at most once a minute
// (API_TOKEN_USE_RESOLUTION_MS), so a busy CI token does not cost an UPDATE per request;
// and the principal (role, scopes, revocation) still comes from the database every time.
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, manualClock, signUp, type TestApp } from '../../../test/harness.js';
import { API_TOKEN_USE_RESOLUTION_MS } from './service.js';

describe.each(DIALECTS)('API token use on %s', (dialect) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const lastUsed = async (t: TestApp, id: string) =>
    (await t.container.db.kysely.selectFrom('api_tokens').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow())
      .last_used_at;

  it('records the first use, then at most one write a minute, and stays exact to the minute', async () => {
    const clock = manualClock(Date.parse('2026-03-01T12:00:00.000Z'));
    t = await createTestApp(dialect, {}, { clock: clock.now });
    const dj = await signUp(t);
    const created = await t.api(dj.token).POST('/v1/tokens', { body: { name: 'ci', scopes: ['streams:read'] } });
    const { id, token } = created.data!;
    expect(await lastUsed(t, id)).toBeNull();

    const use = async () => expect((await t!.api(token).GET('/v1/streams')).response.status).toBe(200);
    await use();
    expect(await lastUsed(t, id)).toBe('2026-03-01T12:00:00.000Z');

    // Many uses within the minute: no new write.
    clock.advance(20_000);
    await use();
    clock.advance(API_TOKEN_USE_RESOLUTION_MS - 20_000 - 1);
    await use();
    expect(await lastUsed(t, id)).toBe('2026-03-01T12:00:00.000Z');

    // A minute after the recorded use, the next use is recorded.
    clock.advance(2);
    await use();
    expect(await lastUsed(t, id)).toBe('2026-03-01T12:01:00.001Z');

    // The listing shows it.
    const listed = await t.api(dj.token).GET('/v1/tokens');
    expect(listed.data!.data.find((x) => x.id === id)?.last_used_at).toBe('2026-03-01T12:01:00.001Z');
  });

  it('still rejects a revoked token at once and follows the owner role, with the user loaded in the same lookup', async () => {
    t = await createTestApp(dialect);
    const dj = await signUp(t);
    const created = await t.api(dj.token).POST('/v1/tokens', { body: { name: 'ci', scopes: ['streams:read'] } });
    const { id, token } = created.data!;
    expect((await t.api(token).GET('/v1/streams')).response.status).toBe(200);

    // Demoted to listener: the token loses streams:read with the role, on the next request.
    await t.container.db.kysely.updateTable('users').set({ role: 'listener' }).where('id', '=', dj.userId).execute();
    const demoted = await t.api(token).GET('/v1/streams');
    expect(demoted.response.status).toBe(403);
    await t.container.db.kysely.updateTable('users').set({ role: 'dj' }).where('id', '=', dj.userId).execute();

    expect((await t.api(dj.token).DELETE('/v1/tokens/{id}', { params: { path: { id } } })).response.status).toBe(204);
    expect((await t.api(token).GET('/v1/streams')).response.status).toBe(401);
  });
});
