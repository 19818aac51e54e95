import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../core/clock.js';
import type { Principal } from '../core/principal.js';
import type { Database } from '../db/tables.js';
import type { AppEnv } from './env.js';
import { DomainError } from '../core/errors.js';

/**
 * Idempotency-Key for POST and PATCH, the way Stripe does it: the first
 * request with a key runs and its response is kept for 24 hours; a retry
 * with the same key and the same body gets that response again (with
 * `Idempotent-Replayed: true`) instead of doing the work twice; the same key
 * with another body is a 422; a retry while the first is still running is a
 * 409. Server errors are not kept, so a retry after a 5xx runs again.
 *
 * Keys belong to the credential that sent them (one API token, or the user's
 * sessions), so another token of the same user never sees a stored response.
 * The middleware runs only on routes that declare `idempotent` (http/openapi.ts),
 * after their scope check, so a replay never skips authorization; routes whose
 * responses carry secrets declare `idempotent: false`, so nothing secret is stored.
 */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const RETENTION_MS = 24 * 60 * 60 * 1000;

/** The credential a key belongs to: the API token's id, or `session` for the user's logins. */
export function credentialOf(principal: Principal): string {
  return principal.via === 'api_token' && principal.tokenId ? principal.tokenId : 'session';
}

export function idempotency(db: Kysely<Database>, clock: Clock = systemClock): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    const principal = c.get('principal');
    if (key === undefined || !principal || (c.req.method !== 'POST' && c.req.method !== 'PATCH')) {
      return next();
    }
    if (!KEY_PATTERN.test(key)) {
      throw new DomainError('validation_failed', 'Idempotency-Key must be 1 to 255 printable ASCII characters.', {
        errors: [{ path: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' }],
      });
    }
    const body = await c.req.text();
    const requestHash = createHash('sha256').update(`${c.req.method} ${c.req.path}\n`).update(body).digest('hex');
    const now = clock();
    const userId = principal.userId;
    const credential = credentialOf(principal);

    await db
      .deleteFrom('idempotency_keys')
      .where('user_id', '=', userId)
      .where('credential', '=', credential)
      .where('key', '=', key)
      .where('created_at', '<', new Date(now.getTime() - RETENTION_MS).toISOString())
      .execute();
    const claimed = await db
      .insertInto('idempotency_keys')
      .values({
        user_id: userId,
        credential,
        key,
        request_hash: requestHash,
        status_code: null,
        content_type: null,
        response_body: null,
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.columns(['user_id', 'credential', 'key']).doNothing())
      .executeTakeFirst();

    if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) {
      const stored = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('user_id', '=', userId)
        .where('credential', '=', credential)
        .where('key', '=', key)
        .executeTakeFirst();
      if (!stored) throw new DomainError('conflict', 'That Idempotency-Key was released a moment ago; send the request again.');
      if (stored.request_hash !== requestHash) {
        throw new DomainError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used for a different request. Use a new key for a new request.',
        );
      }
      if (stored.status_code === null) {
        throw new DomainError(
          'idempotency_in_progress',
          'A request with this Idempotency-Key is still being processed. Retry shortly.',
          {
            headers: { 'Retry-After': '1' },
          },
        );
      }
      return c.newResponse(stored.response_body, stored.status_code as 200, {
        ...(stored.content_type ? { 'Content-Type': stored.content_type } : {}),
        'Idempotent-Replayed': 'true',
      });
    }

    let kept = false;
    try {
      await next();
      const status = c.res.status;
      if (status < 500) {
        const responseBody = c.res.body ? await c.res.clone().text() : null;
        await db
          .updateTable('idempotency_keys')
          .set({ status_code: status, content_type: c.res.headers.get('content-type'), response_body: responseBody })
          .where('user_id', '=', userId)
          .where('credential', '=', credential)
          .where('key', '=', key)
          .execute();
        kept = true;
      }
    } finally {
      if (!kept)
        await db
          .deleteFrom('idempotency_keys')
          .where('user_id', '=', userId)
          .where('credential', '=', credential)
          .where('key', '=', key)
          .execute();
    }
  };
}
