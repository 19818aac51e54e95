import { z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { DomainError } from '../../core/errors.js';
import { PaginationQuery } from '../../core/pagination.js';
import { EVENT_TYPES, EventSchema } from '../../events/catalog.js';
import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { extraErrors, json, securedRoute } from '../../http/openapi.js';
import {
  CreatedWebhookEndpointSchema,
  CreateWebhookEndpointBody,
  DeliveryAttemptListSchema,
  EventIdParam,
  EventListQuery,
  EventListSchema,
  EventStreamQuery,
  ResendEventBody,
  ResendResultSchema,
  RotateSecretBody,
  UpdateWebhookEndpointBody,
  WebhookEndpointIdParam,
  WebhookEndpointListSchema,
  WebhookEndpointSchema,
} from './schemas.js';
import type { WebhooksService } from './service.js';

const tags = ['webhooks'];

const createEndpoint = securedRoute(
  'webhooks:write',
  {
    method: 'post',
    path: '/v1/webhook-endpoints',
    operationId: 'createWebhookEndpoint',
    tags,
    summary: 'Register a URL to receive signed events; the signing secret is in this response only',
    description:
      'Events of the listed types are POSTed to the URL, signed the Standard Webhooks way with the returned `secret` (whsec_…). ' +
      'The URL is only ever fetched through the guarded client: loopback and private addresses are refused.',
    request: { body: { content: json(CreateWebhookEndpointBody), required: true } },
    responses: { 201: { description: 'Created', content: json(CreatedWebhookEndpointSchema) }, ...extraErrors(422) },
  },
  { idempotent: false },
);

const listEndpoints = securedRoute('webhooks:read', {
  method: 'get',
  path: '/v1/webhook-endpoints',
  operationId: 'listWebhookEndpoints',
  tags,
  summary: 'Your webhook endpoints, newest first (never their secrets)',
  request: { query: PaginationQuery },
  responses: { 200: { description: 'Endpoints', content: json(WebhookEndpointListSchema) } },
});

const getEndpoint = securedRoute('webhooks:read', {
  method: 'get',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'getWebhookEndpoint',
  tags,
  summary: 'One webhook endpoint',
  request: { params: WebhookEndpointIdParam },
  responses: { 200: { description: 'The endpoint', content: json(WebhookEndpointSchema) } },
});

const updateEndpoint = securedRoute('webhooks:write', {
  method: 'patch',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'updateWebhookEndpoint',
  tags,
  summary: 'Change the URL, event types, description, or enable/disable the endpoint',
  request: { params: WebhookEndpointIdParam, body: { content: json(UpdateWebhookEndpointBody), required: true } },
  responses: { 200: { description: 'Updated', content: json(WebhookEndpointSchema) }, ...extraErrors(422) },
});

const deleteEndpoint = securedRoute('webhooks:write', {
  method: 'delete',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'deleteWebhookEndpoint',
  tags,
  summary: 'Delete the endpoint; its pending deliveries are dropped',
  request: { params: WebhookEndpointIdParam },
  responses: { 204: { description: 'Deleted' } },
});

const rotateSecret = securedRoute(
  'webhooks:write',
  {
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tags,
    summary: 'A new signing secret; the previous one keeps signing next to it for the overlap',
    request: { params: WebhookEndpointIdParam, body: { content: json(RotateSecretBody), required: false } },
    responses: { 200: { description: 'The endpoint with its new secret', content: json(CreatedWebhookEndpointSchema) } },
  },
  { idempotent: false },
);

const listDeliveries = securedRoute('webhooks:read', {
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags,
  summary: 'Every delivery attempt to the endpoint, newest first: status, latency, response excerpt',
  request: { params: WebhookEndpointIdParam, query: PaginationQuery },
  responses: { 200: { description: 'Attempts', content: json(DeliveryAttemptListSchema) } },
});

const listEvents = securedRoute('webhooks:read', {
  method: 'get',
  path: '/v1/events',
  operationId: 'listEvents',
  tags,
  summary: 'Your events, newest first',
  request: { query: EventListQuery },
  responses: { 200: { description: 'Events', content: json(EventListSchema) } },
});

const streamEvents = securedRoute('webhooks:read', {
  method: 'get',
  path: '/v1/events/stream',
  operationId: 'streamEvents',
  tags,
  summary: 'Your events as they happen (Server-Sent Events), for `djcast webhooks listen`',
  description:
    'Each event is one SSE message: `id` the event id, `event` its type, `data` the event as JSON. Send `Last-Event-ID` ' +
    'when reconnecting to receive what happened in between (as far back as that event).',
  request: {
    query: EventStreamQuery,
    headers: z.object({ 'last-event-id': z.string().max(64).optional() }),
  },
  responses: {
    200: { description: 'An endless event stream', content: { 'text/event-stream': { schema: z.string() } } },
  },
});

const getEvent = securedRoute('webhooks:read', {
  method: 'get',
  path: '/v1/events/{id}',
  operationId: 'getEvent',
  tags,
  summary: 'One event, as it was delivered',
  request: { params: EventIdParam },
  responses: { 200: { description: 'The event', content: json(EventSchema) } },
});

const resendEvent = securedRoute('webhooks:write', {
  method: 'post',
  path: '/v1/events/{id}/resend',
  operationId: 'resendEvent',
  tags,
  summary: 'Deliver an event again, to one endpoint or to every enabled endpoint subscribed to its type',
  request: { params: EventIdParam, body: { content: json(ResendEventBody), required: false } },
  responses: { 202: { description: 'Queued', content: json(ResendResultSchema) }, ...extraErrors(409) },
});

/** How far back each poll of the live stream looks, for events whose transaction committed late. */
const STREAM_LOOKBACK_MS = 10_000;
const STREAM_POLL_MS = 500;
const STREAM_PING_MS = 15_000;

export function registerWebhookRoutes(app: App, webhooks: WebhooksService): void {
  app.openapi(createEndpoint, async (c) => c.json(await webhooks.createEndpoint(principalOf(c), c.req.valid('json')), 201));
  app.openapi(listEndpoints, async (c) => c.json(await webhooks.listEndpoints(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getEndpoint, async (c) => c.json(await webhooks.getEndpoint(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(updateEndpoint, async (c) =>
    c.json(await webhooks.updateEndpoint(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deleteEndpoint, async (c) => {
    await webhooks.deleteEndpoint(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(rotateSecret, async (c) => {
    const body = RotateSecretBody.parse((c.req.valid('json') as unknown) ?? {});
    return c.json(await webhooks.rotateSecret(principalOf(c), c.req.valid('param').id, body.overlap_seconds), 200);
  });
  app.openapi(listDeliveries, async (c) =>
    c.json(await webhooks.listAttempts(principalOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );
  app.openapi(listEvents, async (c) => c.json(await webhooks.listEvents(principalOf(c), c.req.valid('query')), 200));
  // Before /v1/events/{id}: "stream" is not an event id.
  app.openapi(streamEvents, async (c) => {
    const principal = principalOf(c);
    const { types } = c.req.valid('query');
    const filter = types ? parseTypes(types) : null;
    const lastEventId = c.req.header('last-event-id');
    const resumeFrom = lastEventId ? await webhooks.eventForStream(principal, lastEventId) : null;
    return streamSSE(c, async (stream) => {
      // Events already sent, with their time, forgotten once older than the lookback.
      const seen = new Map<string, number>();
      let horizon = resumeFrom ? Date.parse(resumeFrom.created_at) : webhooks.now().getTime();
      // A fresh stream starts now; a resumed one from the event it names.
      const floor = resumeFrom ? 0 : horizon;
      if (resumeFrom) seen.set(resumeFrom.id, horizon);
      let lastPing = Date.now();
      await stream.write(': connected\n\n');
      while (!stream.aborted && !stream.closed) {
        const events = await webhooks.eventsSince(principal.userId, new Date(horizon - STREAM_LOOKBACK_MS), 500);
        for (const event of events) {
          if (seen.has(event.id) || (resumeFrom && event.id <= resumeFrom.id)) continue;
          const at = Date.parse(event.created_at);
          seen.set(event.id, at);
          if (at < floor) continue;
          horizon = Math.max(horizon, at);
          if (filter && !filter.has(event.type)) continue;
          await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event) });
        }
        for (const [id, at] of seen) if (at < horizon - 2 * STREAM_LOOKBACK_MS) seen.delete(id);
        if (Date.now() - lastPing >= STREAM_PING_MS) {
          await stream.write(': ping\n\n');
          lastPing = Date.now();
        }
        await stream.sleep(STREAM_POLL_MS);
      }
    });
  });
  app.openapi(getEvent, async (c) => c.json(await webhooks.getEvent(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(resendEvent, async (c) => {
    const body = ResendEventBody.parse((c.req.valid('json') as unknown) ?? {});
    return c.json(await webhooks.resend(principalOf(c), c.req.valid('param').id, body.endpoint_id), 202);
  });
}

function parseTypes(raw: string): Set<string> {
  const types = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = types.filter((t) => !(EVENT_TYPES as string[]).includes(t));
  if (unknown.length > 0) {
    throw new DomainError(
      'validation_failed',
      `Unknown event type(s): ${unknown.join(', ')}. Known: ${EVENT_TYPES.join(', ')}.`,
      {
        errors: [{ path: 'types', message: 'unknown event type' }],
      },
    );
  }
  return new Set(types);
}
