import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  STRONG_PASSWORD,
  createTestApp,
  signUp,
  signUpAdmin,
  uniqueEmail,
  type TestApp,
} from '../../../test/harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from '../../../test/relay-fakes.js';

describe.each(DIALECTS)('accounts on %s', (dialect) => {
  let t: TestApp;
  // Registering a stream probes its source and launches a relay: a loopback source, recorded launches.
  let source: FakeSource;
  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, { DJCAST_LOGIN_MAX_FAILURES: '3' }, { relayLauncher: new RecordingLauncher() });
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  describe('story 1001: registration', () => {
    it('creates an account with the dj role and returns user_id', async () => {
      const email = uniqueEmail();
      const res = await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
      expect(res.status).toBe(201);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.user_id).toMatch(/^usr_[0-9a-z]{26}$/);
      expect(body.role).toBe('dj');
      expect(body).not.toHaveProperty('password');
      expect(body).not.toHaveProperty('password_hash');
    });

    it('stores an argon2id hash with at least OWASP parameters, never the password', async () => {
      const email = uniqueEmail();
      await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
      const row = await t.container.db.kysely
        .selectFrom('users')
        .selectAll()
        .where('email_normalized', '=', email)
        .executeTakeFirstOrThrow();
      const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(row.password_hash);
      expect(match).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThanOrEqual(19 * 1024);
      expect(Number(match![2])).toBeGreaterThanOrEqual(2);
      expect(row.password_hash).not.toContain(STRONG_PASSWORD);
    });

    it('refuses an existing email with 409, ignoring case', async () => {
      const email = uniqueEmail();
      expect((await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } })).status).toBe(201);
      const res = await t.request('POST', '/v1/auth/register', {
        body: { email: email.toUpperCase(), password: STRONG_PASSWORD },
      });
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('email_taken');
    });

    it.each(['not-an-email', 'a@', '@b.com', 'dj example@x.com', ''])('refuses the invalid email %j with 400', async (email) => {
      const res = await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; errors: { path: string }[]; request_id: string };
      expect(body.code).toBe('validation_failed');
      expect(body.errors.map((e) => e.path)).toContain('email');
      expect(body.request_id).toBe(res.headers.get('x-request-id'));
    });

    it('lists every unmet password rule', async () => {
      const res = await t.request('POST', '/v1/auth/register', { body: { email: uniqueEmail(), password: 'abc' } });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; errors: { code: string; message: string }[] };
      expect(body.code).toBe('weak_password');
      expect(body.errors.map((e) => e.code).sort()).toEqual(['min_length', 'special_character']);
    });

    it('refuses a password without a special character, and a common one', async () => {
      const noSpecial = await t.request('POST', '/v1/auth/register', {
        body: { email: uniqueEmail(), password: 'longenoughpassword1' },
      });
      expect(noSpecial.status).toBe(400);
      expect(((await noSpecial.json()) as { errors: { code: string }[] }).errors.map((e) => e.code)).toEqual([
        'special_character',
      ]);
      const common = await t.request('POST', '/v1/auth/register', { body: { email: uniqueEmail(), password: 'Password123!' } });
      expect(common.status).toBe(400);
      expect(((await common.json()) as { errors: { code: string }[] }).errors.map((e) => e.code)).toEqual(['not_common']);
    });

    it('never lets a caller register as admin', async () => {
      const res = await t.request('POST', '/v1/auth/register', {
        body: { email: uniqueEmail(), password: STRONG_PASSWORD, role: 'admin' },
      });
      expect(res.status).toBe(400);
    });
  });

  describe('story 1002: login and refresh', () => {
    it('returns access and refresh tokens with a 24 h expiry', async () => {
      const email = uniqueEmail();
      await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
      const res = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { access_token: string; refresh_token: string; token_type: string; expires_in: number };
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(86_400);
      const payload = JSON.parse(Buffer.from(body.access_token.split('.')[1]!, 'base64url').toString()) as {
        exp: number;
        iat: number;
      };
      expect(payload.exp - payload.iat).toBe(86_400);
      expect(body.refresh_token).toMatch(/^djr_/);
      const me = await t.request('GET', '/v1/me', { token: body.access_token });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { email: string }).email).toBe(email);
    });

    it('answers a wrong password and an unknown email with the same 401 body', async () => {
      const email = uniqueEmail();
      await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
      const wrong = await t.request('POST', '/v1/auth/login', { body: { email, password: 'not-the-password!' } });
      const unknown = await t.request('POST', '/v1/auth/login', {
        body: { email: uniqueEmail(), password: 'not-the-password!' },
      });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
      expect(strip((await wrong.json()) as Record<string, unknown>)).toEqual(
        strip((await unknown.json()) as Record<string, unknown>),
      );
    });

    it('spends comparable time on unknown emails and wrong passwords', async () => {
      // Both paths must run an argon2 verification; without the dummy check an unknown email
      // answers in a fraction of the time. The fastest of several interleaved tries is the least noisy
      // sample (six: other test files may be running a login storm on the same cores).
      const emails: string[] = [];
      for (let i = 0; i < 6; i++) {
        const email = uniqueEmail();
        await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
        emails.push(email);
      }
      const time = async (body: object) => {
        const started = performance.now();
        const res = await t.request('POST', '/v1/auth/login', { body });
        expect(res.status).toBe(401);
        return performance.now() - started;
      };
      const wrong: number[] = [];
      const unknown: number[] = [];
      for (const email of emails) {
        wrong.push(await time({ email, password: 'wrong-password-1!' }));
        unknown.push(await time({ email: uniqueEmail(), password: 'wrong-password-1!' }));
      }
      const [fastestWrong, fastestUnknown] = [Math.min(...wrong), Math.min(...unknown)];
      expect(fastestUnknown).toBeGreaterThan(fastestWrong * 0.5);
      expect(fastestWrong).toBeGreaterThan(fastestUnknown * 0.5);
    });

    it('rotates refresh tokens: the new one works, the old one stops working', async () => {
      const user = await signUp(t);
      const first = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: user.refresh_token } });
      expect(first.status).toBe(200);
      const rotated = (await first.json()) as { access_token: string; refresh_token: string; expires_in: number };
      expect(rotated.refresh_token).not.toBe(user.refresh_token);
      expect(rotated.expires_in).toBe(86_400);
      expect((await t.request('GET', '/v1/me', { token: rotated.access_token })).status).toBe(200);
      const again = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: rotated.refresh_token } });
      expect(again.status).toBe(200);
    });

    it('revokes the whole family when an already-rotated refresh token is presented', async () => {
      const user = await signUp(t);
      const next = (await (
        await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: user.refresh_token } })
      ).json()) as {
        refresh_token: string;
      };
      const replay = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: user.refresh_token } });
      expect(replay.status).toBe(401);
      // The legitimate holder's newer token died with the family.
      const after = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: next.refresh_token } });
      expect(after.status).toBe(401);
    });

    it('stores refresh tokens hashed, never in clear', async () => {
      const user = await signUp(t);
      const rows = await t.container.db.kysely.selectFrom('refresh_tokens').select('token_hash').execute();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.some((r) => r.token_hash.includes(user.refresh_token))).toBe(false);
      expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
    });

    it('logout revokes the refresh token', async () => {
      const user = await signUp(t);
      expect((await t.request('POST', '/v1/auth/logout', { body: { refresh_token: user.refresh_token } })).status).toBe(204);
      expect((await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: user.refresh_token } })).status).toBe(401);
    });

    it('rate limits repeated failures with 429 and Retry-After', async () => {
      const email = uniqueEmail();
      await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD } });
      for (let i = 0; i < 3; i++) {
        expect((await t.request('POST', '/v1/auth/login', { body: { email, password: `wrong-${i}!` } })).status).toBe(401);
      }
      const limited = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await limited.json()) as { code: string }).code).toBe('rate_limited');
    });
  });

  describe('JWT hardening', () => {
    const claims = { role: 'admin' };
    it('rejects alg none, a foreign key, a wrong audience and an expired token with 401', async () => {
      const user = await signUp(t);
      const issuer = 'http://djcast.test';
      const none = new UnsecuredJWT(claims)
        .setSubject(user.userId)
        .setIssuer(issuer)
        .setAudience('djcast-api')
        .setExpirationTime('1h')
        .encode();
      const foreign = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.userId)
        .setIssuer(issuer)
        .setAudience('djcast-api')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
      const secret = t.container.config.auth.jwtSecret;
      expect(secret).toBeUndefined(); // the embedded default generated one in the data dir
      for (const token of [none, foreign, 'garbage', `${user.token}x`]) {
        const res = await t.request('GET', '/v1/me', { token });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { code: string }).code).toBe('invalid_token');
      }
    });
  });

  describe('API tokens for CI', () => {
    it('shows the token once, stores only its hash, accepts it as Bearer, lists and revokes it', async () => {
      const user = await signUp(t);
      const created = await t.request('POST', '/v1/tokens', {
        token: user.token,
        body: { name: 'ci', scopes: ['streams:read'] },
      });
      expect(created.status).toBe(201);
      const body = (await created.json()) as { id: string; token: string; scopes: string[] };
      expect(body.token).toMatch(/^djc_/);
      const rows = await t.container.db.kysely.selectFrom('api_tokens').selectAll().where('id', '=', body.id).execute();
      expect(JSON.stringify(rows)).not.toContain(body.token);

      expect((await t.request('GET', '/v1/streams', { token: body.token })).status).toBe(200);
      const listed = (await (await t.request('GET', '/v1/tokens', { token: user.token })).json()) as {
        data: Record<string, unknown>[];
      };
      expect(listed.data.map((d) => d.id)).toContain(body.id);
      expect(JSON.stringify(listed)).not.toContain(body.token);

      expect((await t.request('DELETE', `/v1/tokens/${body.id}`, { token: user.token })).status).toBe(204);
      expect((await t.request('GET', '/v1/streams', { token: body.token })).status).toBe(401);
    });

    it('refuses to grant scopes the caller does not hold', async () => {
      const listener = await signUp(t, { role: 'listener' });
      const res = await t.request('POST', '/v1/tokens', {
        token: listener.token,
        body: { name: 'x', scopes: ['streams:write'] },
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { missing_scopes: string[] }).missing_scopes).toEqual(['streams:write']);
    });
  });

  describe('story 1003: roles, scopes and ownership', () => {
    const streamBody = {
      name: 'Friday set',
      get source_url() {
        return `${source.url}/live`;
      },
    };

    it('a DJ with streams:write creates a stream linked to their user_id', async () => {
      const dj = await signUp(t);
      const res = await t.request('POST', '/v1/streams', { token: dj.token, body: streamBody });
      expect(res.status).toBe(201);
      const stream = (await res.json()) as { id: string; owner_id: string; mount: string };
      expect(stream.owner_id).toBe(dj.userId);
      expect(stream.mount).toBe('/live');
    });

    it("a DJ modifying another DJ's stream gets 403", async () => {
      const a = await signUp(t);
      const b = await signUp(t);
      const stream = (await (await t.request('POST', '/v1/streams', { token: a.token, body: streamBody })).json()) as {
        id: string;
      };
      for (const [method, body] of [
        ['PATCH', { name: 'mine now' }],
        ['GET', undefined],
        ['DELETE', undefined],
      ] as const) {
        const res = await t.request(method, `/v1/streams/${stream.id}`, { token: b.token, body });
        expect(res.status).toBe(403);
        expect(((await res.json()) as { code: string }).code).toBe('not_owner');
      }
      const untouched = (await (await t.request('GET', `/v1/streams/${stream.id}`, { token: a.token })).json()) as {
        name: string;
      };
      expect(untouched.name).toBe('Friday set');
    });

    it("an admin sees and may change every DJ's resources", async () => {
      const dj = await signUp(t);
      const admin = await signUpAdmin(t);
      const stream = (await (await t.request('POST', '/v1/streams', { token: dj.token, body: streamBody })).json()) as {
        id: string;
      };
      expect((await t.request('GET', `/v1/streams/${stream.id}`, { token: admin.token })).status).toBe(200);
      const all = (await (await t.request('GET', `/v1/streams?owner_id=${dj.userId}`, { token: admin.token })).json()) as {
        data: { id: string }[];
      };
      expect(all.data.map((s) => s.id)).toContain(stream.id);
      expect(
        (await t.request('PATCH', `/v1/streams/${stream.id}`, { token: admin.token, body: { name: 'moderated' } })).status,
      ).toBe(200);
    });

    it('a request without the required scope gets 403 naming the missing scope', async () => {
      const dj = await signUp(t);
      const readOnly = (await (
        await t.request('POST', '/v1/tokens', { token: dj.token, body: { name: 'ro', scopes: ['streams:read'] } })
      ).json()) as { token: string };
      const res = await t.request('POST', '/v1/streams', { token: readOnly.token, body: streamBody });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { code: string; missing_scopes: string[]; detail: string };
      expect(body.code).toBe('missing_scope');
      expect(body.missing_scopes).toEqual(['streams:write']);
      expect(body.detail).toContain('streams:write');

      const listener = await signUp(t, { role: 'listener' });
      expect((await t.request('POST', '/v1/streams', { token: listener.token, body: streamBody })).status).toBe(403);
    });

    it('lists only your own streams, with cursor pagination', async () => {
      const dj = await signUp(t);
      const other = await signUp(t);
      await t.request('POST', '/v1/streams', { token: other.token, body: streamBody });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          (
            (await (
              await t.request('POST', '/v1/streams', { token: dj.token, body: { ...streamBody, name: `s${i}` } })
            ).json()) as { id: string }
          ).id,
        );
      }
      const first = (await (await t.request('GET', '/v1/streams?limit=2', { token: dj.token })).json()) as {
        data: { id: string }[];
        has_more: boolean;
        next_cursor: string;
      };
      expect(first.data.map((s) => s.id)).toEqual([ids[2], ids[1]]);
      expect(first.has_more).toBe(true);
      const second = (await (
        await t.request('GET', `/v1/streams?limit=2&starting_after=${first.next_cursor}`, { token: dj.token })
      ).json()) as {
        data: { id: string }[];
        has_more: boolean;
      };
      expect(second.data.map((s) => s.id)).toEqual([ids[0]]);
      expect(second.has_more).toBe(false);
    });

    it('keeps source credentials encrypted at rest and never returns them', async () => {
      const dj = await signUp(t);
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { ...streamBody, source_username: 'source', source_password: 'hackme-source-pw' },
      });
      const text = await res.text();
      expect(text).not.toContain('hackme-source-pw');
      const stream = JSON.parse(text) as { id: string; has_source_credentials: boolean };
      expect(stream.has_source_credentials).toBe(true);
      const row = await t.container.db.kysely
        .selectFrom('streams')
        .selectAll()
        .where('id', '=', stream.id)
        .executeTakeFirstOrThrow();
      expect(row.source_password_enc).not.toContain('hackme-source-pw');
      expect(t.rawLogs.join('\n')).not.toContain('hackme-source-pw');
    });
  });
});
