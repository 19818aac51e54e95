// The event catalog: every event type the API emits, with the schema of the
// object it carries (the resource as the API returns it). Each entry becomes
// a webhook in the OpenAPI document (its `webhooks` section), so the SDK gets
// the payload types. Adding an event type is one entry here plus the
// emitEvent(tx, …) call in the transaction of the change that causes it.
//
// The catalog reads the features' schemas (leaf files of zod only); nothing
// here imports a service, so any feature may import `events/` downward.

import { z } from '@hono/zod-openapi';
import { PlanSchema, SubscriptionSchema } from '../features/billing/schemas.js';
import { PlaylistSchema } from '../features/playlists/schemas.js';
import { ArchiveSchema } from '../features/archives/schemas.js';
import { EpisodeSchema } from '../features/podcasts/schemas.js';
import { DomainSchema } from '../features/domains/schemas.js';
import { StreamSchema } from '../features/streams/schemas.js';
import { UploadSchema } from '../features/uploads/schemas.js';

interface CatalogEntry {
  /** The object's schema (a named component). */
  object: z.ZodType;
  summary: string;
}

export const EVENT_CATALOG = {
  'stream.starting': {
    object: StreamSchema,
    summary: 'A relay worker was started for the stream; it is connecting to the source.',
  },
  'stream.live': { object: StreamSchema, summary: 'The stream is live: the relay is publishing HLS segments.' },
  'stream.reconnecting': {
    object: StreamSchema,
    summary: 'The relay lost the source (or was restarted after going silent) and is reconnecting.',
  },
  'stream.offline': { object: StreamSchema, summary: 'The source has been gone for the offline window; the stream is offline.' },
  'upload.ready': { object: UploadSchema, summary: 'The upload was scanned and transcoded; `hls_url` plays it.' },
  'upload.failed': { object: UploadSchema, summary: 'Processing the upload failed; `reason` says why.' },
  'upload.rejected': { object: UploadSchema, summary: 'The virus scan found something; the file was deleted.' },
  'playlist.ready': {
    object: PlaylistSchema,
    summary: 'Every track of the playlist is settled (ready or failed); nothing is pending.',
  },
  'playlist.item_failed': {
    object: PlaylistSchema,
    summary: 'An external track of the playlist could not be fetched or changed at its origin; its item says why.',
  },
  'episode.published': {
    object: EpisodeSchema,
    summary: "The episode was published (now, or at its scheduled time) and is in the podcast's feed.",
  },
  'domain.verified': {
    object: DomainSchema,
    summary: 'The TXT record was found: the hostname is proven yours; next, the CNAME and the certificate.',
  },
  'domain.active': {
    object: DomainSchema,
    summary: 'The certificate was issued: `https://{hostname}/rss.xml` serves the feed.',
  },
  'domain.failed': { object: DomainSchema, summary: 'The domain could not be set up; `failure_reason` says why.' },
  'plan.created': { object: PlanSchema, summary: 'A plan was created and is on sale.' },
  'plan.updated': { object: PlanSchema, summary: 'A plan changed (name, price, features, unlocks) or was archived.' },
  'subscription.created': {
    object: SubscriptionSchema,
    summary: "A listener subscribed to one of the DJ's plans (`status` says whether it is active or waits for checkout).",
  },
  'subscription.updated': {
    object: SubscriptionSchema,
    summary: 'A subscription changed: status (active, past_due, canceled, ...), cancel at period end, or renewal.',
  },
  'stream.archived': {
    object: ArchiveSchema,
    summary: 'A live set became an episode of `podcast_id` (`episode_id`: a draft unless auto-published), with chapters.',
  },
  'stream.archive_failed': {
    object: ArchiveSchema,
    summary: 'A live set could not become an episode (or archiving was turned off during it); `failure_reason` says why.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof EVENT_CATALOG;
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];
export type EventObject<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]['object']>;

export const EventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]).openapi('EventType');

const schemaName = (type: string) =>
  `${type
    .split(/[._]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('')}Event`;

/** The envelope every event shares; `data.object` is typed per event type. */
function eventSchema<T extends EventType>(type: T) {
  return z
    .object({
      id: z
        .string()
        .openapi({ example: 'evt_01jd0v9m3x7k2p8q4r5s6t7u8v', description: 'Time-sortable; the `webhook-id` header.' }),
      type: z.literal(type),
      created_at: z.string().openapi({ description: 'When the change happened (ISO 8601, UTC).' }),
      data: z.object({ object: EVENT_CATALOG[type].object }),
    })
    .openapi(schemaName(type));
}

export const EVENT_SCHEMAS = Object.fromEntries(EVENT_TYPES.map((t) => [t, eventSchema(t)])) as {
  [T in EventType]: ReturnType<typeof eventSchema<T>>;
};

/** Any event: the union of the catalog's envelopes, told apart by `type`. */
export const EventSchema = z
  .discriminatedUnion('type', Object.values(EVENT_SCHEMAS) as unknown as [z.ZodObject, ...z.ZodObject[]])
  .openapi('Event');

export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  created_at: string;
  data: { object: EventObject<T> };
}

/**
 * Writes the catalog into the document's `webhooks` section (OpenAPI 3.1):
 * one POST per event type, its body the event, signed the Standard Webhooks way.
 */
export function registerEventWebhooks(registry: {
  registerWebhook(config: Parameters<import('@hono/zod-openapi').OpenAPIHono['openAPIRegistry']['registerWebhook']>[0]): void;
}): void {
  for (const type of EVENT_TYPES) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `on${schemaName(type).replace(/Event$/, '')}`,
      tags: ['webhooks'],
      summary: EVENT_CATALOG[type].summary,
      description:
        'Sent to every enabled endpoint subscribed to this type, signed with the endpoint secret (Standard Webhooks: ' +
        '`webhook-id`, `webhook-timestamp`, `webhook-signature`). Answer 2xx within the timeout; anything else is retried.',
      request: {
        headers: z.object({
          'webhook-id': z.string().openapi({ description: 'The event id; the same on every retry.' }),
          'webhook-timestamp': z.string().openapi({ description: 'Unix seconds when this attempt was signed.' }),
          'webhook-signature': z
            .string()
            .openapi({ description: 'Space-separated `v1,<base64 HMAC-SHA256>`; two during a secret rotation overlap.' }),
        }),
        body: { content: { 'application/json': { schema: EVENT_SCHEMAS[type] } }, required: true },
      },
      responses: { 200: { description: 'Any 2xx acknowledges the event.' } },
    });
  }
}
