import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../core/principal.js';

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal | null;
  };
}

export type App = OpenAPIHono<AppEnv>;
