import type { MiddlewareHandler } from 'hono';
import type { App, AppEnv } from '../../http/env.js';
import { json, machineRoute } from '../../http/openapi.js';
import { DomainError } from '../../core/errors.js';
import type { RelaysTable } from '../../db/tables.js';
import { HeartbeatBody, HeartbeatResponse, RelayIdParam } from './schemas.js';
import type { RelaysService } from './service.js';

/**
 * Relay workers authenticate with their own per-relay token, not a user's.
 * The document marks such operations `x-auth: relay-token`, and the
 * generated security test checks them against relay tokens instead.
 */
export const RELAY_TOKEN_SCHEME = 'relayToken';

type RelayEnv = AppEnv & { Variables: { relay: RelaysTable } };

function requireRelayToken(relays: RelaysService): MiddlewareHandler<RelayEnv> {
  return async (c, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!bearer) throw new DomainError('unauthenticated', 'Send the relay token as "Authorization: Bearer <relay token>".');
    const relay = await relays.authenticate(c.req.param('relay_id') ?? '', bearer);
    if (!relay)
      throw new DomainError(
        'invalid_token',
        'The relay token is not valid for this relay (it rotates when the relay is restarted).',
      );
    c.set('relay', relay);
    await next();
  };
}

export function registerRelayRoutes(app: App, relays: RelaysService): void {
  app.openAPIRegistry.registerComponent('securitySchemes', RELAY_TOKEN_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'The per-relay token (djl_…) the API gives a relay worker when it launches it. Not a user credential.',
  });

  const relayToken = { scheme: RELAY_TOKEN_SCHEME, name: 'relay-token', middleware: requireRelayToken(relays) };
  const heartbeat = machineRoute(relayToken, {
    method: 'post',
    path: '/v1/relays/{relay_id}/heartbeat',
    operationId: 'sendRelayHeartbeat',
    tags: ['relays'],
    summary: 'A relay worker reports its state and numbers (relay token only)',
    request: { params: RelayIdParam, body: { content: json(HeartbeatBody), required: true } },
    responses: { 200: { description: 'Recorded', content: json(HeartbeatResponse) } },
  });

  app.openapi(heartbeat, async (c) => {
    const relay = (c as unknown as { get(k: 'relay'): RelaysTable }).get('relay');
    return c.json(await relays.heartbeat(relay, c.req.valid('json')), 200);
  });
}
