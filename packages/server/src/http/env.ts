import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Authenticator, Principal } from '../core/principal.js';
import type { Database } from '../db/tables.js';

/** What the route policies (http/openapi.ts) need at request time; app.ts sets it for every request. */
export interface HttpDeps {
  authenticator: Authenticator;
  /** Where Idempotency-Key responses are kept. */
  db: Kysely<Database>;
  clock: Clock;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal | null;
    http: HttpDeps;
    /** The caller's address (http/playback-policy.ts: X-Forwarded-For only from DJCAST_TRUSTED_PROXIES). */
    clientAddress: string;
  };
}

export type App = OpenAPIHono<AppEnv>;
