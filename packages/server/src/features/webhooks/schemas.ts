import { z } from '@hono/zod-openapi';
import { listSchema, PaginationQuery } from '../../core/pagination.js';
import { EVENT_TYPES, EventSchema, EventTypeSchema } from '../../events/catalog.js';

const EventTypeOrAll = z
  .union([EventTypeSchema, z.literal('*')])
  .openapi({ description: 'An event type from the catalog, or `*` for every type (also those added later).' });

export const WebhookEndpointSchema = z
  .object({
    id: z.string().openapi({ example: 'whe_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    owner_id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(EventTypeOrAll),
    enabled: z.boolean(),
    disabled_reason: z
      .string()
      .nullable()
      .openapi({ description: 'Why the server disabled it (deliveries failed for the whole retry window).' }),
    failing_since: z.string().nullable().openapi({ description: 'When deliveries began failing, with no success since.' }),
    secret_rotation_ends_at: z
      .string()
      .nullable()
      .openapi({ description: 'During a rotation overlap: until when the previous secret still signs too.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookEndpoint');

export const CreatedWebhookEndpointSchema = WebhookEndpointSchema.extend({
  secret: z.string().openapi({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret. Shown in this response only: store it now.',
  }),
}).openapi('CreatedWebhookEndpoint');

export const WebhookEndpointListSchema = listSchema(WebhookEndpointSchema, 'WebhookEndpointList');

export const CreateWebhookEndpointBody = z
  .object({
    url: z.string().max(2048).openapi({ example: 'https://example.com/djcast/webhooks' }),
    events: z
      .array(EventTypeOrAll)
      .min(1)
      .max(EVENT_TYPES.length + 1),
    description: z.string().trim().max(500).optional(),
    enabled: z.boolean().default(true),
  })
  .strict()
  .openapi('CreateWebhookEndpointRequest');

export const UpdateWebhookEndpointBody = z
  .object({
    url: z.string().max(2048).optional(),
    events: z
      .array(EventTypeOrAll)
      .min(1)
      .max(EVENT_TYPES.length + 1)
      .optional(),
    description: z.string().trim().max(500).nullable().optional(),
    enabled: z.boolean().optional().openapi({ description: 'true re-enables an endpoint the server disabled.' }),
  })
  .strict()
  .openapi('UpdateWebhookEndpointRequest');

export const RotateSecretBody = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(24 * 3600)
      .openapi({ description: 'How long the previous secret keeps signing next to the new one (both signatures are sent).' }),
  })
  .strict()
  .openapi('RotateWebhookSecretRequest');

export const WebhookEndpointIdParam = z.object({
  id: z
    .string()
    .regex(/^whe_[0-9a-z]{26}$/, 'must be a webhook endpoint id (whe_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'whe_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const DeliveryAttemptSchema = z
  .object({
    id: z.string().openapi({ example: 'wha_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    delivery_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    attempt: z.number().int().openapi({ description: '1 for the first try of this delivery.' }),
    outcome: z.enum(['succeeded', 'http_error', 'timeout', 'network_error', 'not_allowed']),
    status_code: z.number().int().nullable(),
    latency_ms: z.number().int(),
    response_excerpt: z.string().nullable().openapi({ description: 'The first KiB of what the endpoint answered.' }),
    error: z.string().nullable(),
    delivery_state: z.enum(['pending', 'waiting', 'succeeded', 'failed']),
    next_attempt_at: z.string().nullable().openapi({ description: 'When the delivery is tried again, if it is.' }),
    created_at: z.string(),
  })
  .openapi('WebhookDeliveryAttempt');

export const DeliveryAttemptListSchema = listSchema(DeliveryAttemptSchema, 'WebhookDeliveryAttemptList');

export const EventListSchema = listSchema(EventSchema, 'EventList');

export const EventListQuery = PaginationQuery.extend({
  type: EventTypeSchema.optional().openapi({ param: { name: 'type', in: 'query' } }),
});

export const EventIdParam = z.object({
  id: z
    .string()
    .regex(/^evt_[0-9a-z]{26}$/, 'must be an event id (evt_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'evt_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const ResendEventBody = z
  .object({
    endpoint_id: z
      .string()
      .regex(/^whe_[0-9a-z]{26}$/)
      .optional()
      .openapi({ description: 'Only to this endpoint; by default to every enabled endpoint subscribed to the type.' }),
  })
  .strict()
  .openapi('ResendEventRequest');

export const ResendResultSchema = z
  .object({
    event_id: z.string(),
    deliveries: z.array(z.object({ id: z.string(), endpoint_id: z.string() })),
  })
  .openapi('ResendResult');

export const EventStreamQuery = z.object({
  types: z
    .string()
    .max(2000)
    .optional()
    .openapi({ param: { name: 'types', in: 'query' }, description: 'Comma-separated event types; all when absent.' }),
});

export type WebhookEndpointView = z.infer<typeof WebhookEndpointSchema>;
export type CreatedWebhookEndpointView = z.infer<typeof CreatedWebhookEndpointSchema>;
export type CreateWebhookEndpointRequest = z.infer<typeof CreateWebhookEndpointBody>;
export type UpdateWebhookEndpointRequest = z.infer<typeof UpdateWebhookEndpointBody>;
export type DeliveryAttemptView = z.infer<typeof DeliveryAttemptSchema>;
