// Which fields of webhook endpoints, attempts and events the human output shows.
import type { CreatedWebhookEndpoint, WebhookDeliveryAttempt, WebhookEndpoint, WebhookEvent } from '@djcast/sdk';
import type { Column, Field } from './format.js';

export const ENDPOINT_COLUMNS: Column<WebhookEndpoint>[] = [
  { header: 'id', get: (e) => e.id },
  { header: 'url', get: (e) => e.url },
  { header: 'events', get: (e) => e.events.join(',') },
  { header: 'enabled', get: (e) => (e.enabled ? 'yes' : 'no') },
  { header: 'failing since', get: (e) => e.failing_since },
];

export const ENDPOINT_FIELDS: Field<WebhookEndpoint>[] = [
  { header: 'id', get: (e) => e.id },
  { header: 'url', get: (e) => e.url },
  { header: 'events', get: (e) => e.events.join(', ') },
  { header: 'description', get: (e) => e.description },
  { header: 'enabled', get: (e) => (e.enabled ? 'yes' : 'no') },
  { header: 'disabled reason', get: (e) => e.disabled_reason },
  { header: 'failing since', get: (e) => e.failing_since },
  { header: 'old secret until', get: (e) => e.secret_rotation_ends_at },
  { header: 'created', get: (e) => e.created_at },
];

export const CREATED_ENDPOINT_FIELDS: Field<CreatedWebhookEndpoint>[] = [
  ...(ENDPOINT_FIELDS as Field<CreatedWebhookEndpoint>[]),
  { header: 'secret', get: (e) => e.secret },
];

export const ATTEMPT_COLUMNS: Column<WebhookDeliveryAttempt>[] = [
  { header: 'time', get: (a) => a.created_at },
  { header: 'event', get: (a) => a.event_id },
  { header: 'type', get: (a) => a.event_type },
  { header: 'try', get: (a) => String(a.attempt) },
  { header: 'outcome', get: (a) => a.outcome },
  { header: 'status', get: (a) => (a.status_code === null ? null : String(a.status_code)) },
  { header: 'ms', get: (a) => String(a.latency_ms) },
  { header: 'next try', get: (a) => a.next_attempt_at },
];

export const EVENT_COLUMNS: Column<WebhookEvent>[] = [
  { header: 'id', get: (e) => e.id },
  { header: 'type', get: (e) => e.type },
  { header: 'object', get: (e) => (e.data.object as { id: string }).id },
  { header: 'created', get: (e) => e.created_at },
];

export const EVENT_FIELDS: Field<WebhookEvent>[] = [
  ...(EVENT_COLUMNS as Field<WebhookEvent>[]),
  { header: 'object json', get: (e) => JSON.stringify(e.data.object) },
];
