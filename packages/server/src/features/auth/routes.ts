import type { Context } from 'hono';
import { principalOf } from '../../http/auth.js';
import type { App, AppEnv } from '../../http/env.js';
import { authenticatedRoute, json, publicRoute, securedRoute, extraErrors } from '../../http/openapi.js';
import {
  CreateTokenBody,
  CreatedApiTokenSchema,
  LoginBody,
  RefreshBody,
  RegisterBody,
  RegisterResponse,
  TokenIdParam,
  TokenListSchema,
  TokenPairSchema,
  UserSchema,
} from './schemas.js';
import type { AuthService } from './service.js';

const register = publicRoute({
  method: 'post',
  path: '/v1/auth/register',
  operationId: 'register',
  tags: ['auth'],
  summary: 'Create an account (role dj unless listener is asked for)',
  request: { body: { content: json(RegisterBody), required: true } },
  responses: { 201: { description: 'Account created', content: json(RegisterResponse) }, ...extraErrors(409, 503) },
});

const login = publicRoute({
  method: 'post',
  path: '/v1/auth/login',
  operationId: 'login',
  tags: ['auth'],
  summary: 'Exchange email and password for an access token and a refresh token',
  request: { body: { content: json(LoginBody), required: true } },
  responses: { 200: { description: 'Logged in', content: json(TokenPairSchema) }, ...extraErrors(503) },
});

const refresh = publicRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  operationId: 'refreshToken',
  tags: ['auth'],
  summary: 'Rotate a refresh token and get a new access token',
  request: { body: { content: json(RefreshBody), required: true } },
  responses: { 200: { description: 'New tokens', content: json(TokenPairSchema) } },
});

const logout = publicRoute({
  method: 'post',
  path: '/v1/auth/logout',
  operationId: 'logout',
  tags: ['auth'],
  summary: 'Revoke a refresh token and every token rotated from it',
  request: { body: { content: json(RefreshBody), required: true } },
  responses: { 204: { description: 'Logged out' } },
});

const me = authenticatedRoute({
  method: 'get',
  path: '/v1/me',
  operationId: 'getMe',
  tags: ['auth'],
  summary: 'The calling user',
  responses: { 200: { description: 'The user', content: json(UserSchema) } },
});

const createToken = securedRoute(
  'tokens:write',
  {
    method: 'post',
    path: '/v1/tokens',
    operationId: 'createToken',
    tags: ['tokens'],
    summary: 'Create an API token for a CI pipeline (the secret is shown once)',
    request: { body: { content: json(CreateTokenBody), required: true } },
    responses: { 201: { description: 'Token created', content: json(CreatedApiTokenSchema) } },
  },
  { idempotent: false /* the response is the token's secret */ },
);

const listTokens = securedRoute('tokens:write', {
  method: 'get',
  path: '/v1/tokens',
  operationId: 'listTokens',
  tags: ['tokens'],
  summary: 'Your API tokens (never their secrets)',
  responses: { 200: { description: 'Tokens', content: json(TokenListSchema) } },
});

const revokeToken = securedRoute('tokens:write', {
  method: 'delete',
  path: '/v1/tokens/{id}',
  operationId: 'revokeToken',
  tags: ['tokens'],
  summary: 'Revoke an API token',
  request: { params: TokenIdParam },
  responses: { 204: { description: 'Revoked' } },
});

/** The caller's address by the one rule in http/playback-policy.ts (X-Forwarded-For only from trusted proxies). */
function clientIp(c: Context<AppEnv>): string {
  return c.get('clientAddress');
}

export function registerAuthRoutes(app: App, auth: AuthService): void {
  app.openapi(register, async (c) => {
    const user = await auth.register(c.req.valid('json'), clientIp(c));
    const { id, scopes: _scopes, ...rest } = user;
    return c.json({ user_id: id, ...rest }, 201);
  });

  app.openapi(login, async (c) => {
    const body = c.req.valid('json');
    return c.json(await auth.login({ ...body, clientIp: clientIp(c) }), 200);
  });

  app.openapi(refresh, async (c) => c.json(await auth.refresh(c.req.valid('json').refresh_token), 200));

  app.openapi(logout, async (c) => {
    await auth.logout(c.req.valid('json').refresh_token);
    return c.body(null, 204);
  });

  app.openapi(me, async (c) => c.json(await auth.me(principalOf(c)), 200));

  app.openapi(createToken, async (c) => c.json(await auth.createApiToken(principalOf(c), c.req.valid('json')), 201));

  app.openapi(listTokens, async (c) => c.json({ data: await auth.listApiTokens(principalOf(c)) }, 200));

  app.openapi(revokeToken, async (c) => {
    await auth.revokeApiToken(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
}
