import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../features/auth/principal.js';

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal | null;
    /** The caller's address (http/playback-policy.ts: X-Forwarded-For only from DJCAST_TRUSTED_PROXIES). */
    clientAddress: string;
  };
}

export type App = OpenAPIHono<AppEnv>;
