import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { components, operations, webhooks } from '../generated/openapi.js';
import { paginate } from '../pagination.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type CreatedWebhookEndpoint = Schemas['CreatedWebhookEndpoint'];
export type CreateWebhookEndpointRequest = Schemas['CreateWebhookEndpointRequest'];
export type UpdateWebhookEndpointRequest = Schemas['UpdateWebhookEndpointRequest'];
export type WebhookDeliveryAttempt = Schemas['WebhookDeliveryAttempt'];
export type WebhookEndpointList = Schemas['WebhookEndpointList'];
export type WebhookDeliveryAttemptList = Schemas['WebhookDeliveryAttemptList'];
export type EventList = Schemas['EventList'];
export type EventType = Schemas['EventType'];
/** Any event the API emits; narrow it on `type`. */
export type WebhookEvent = Schemas['Event'];
/** The event of one type, e.g. `EventOf<'upload.ready'>` (its `data.object` is an Upload). */
export type EventOf<T extends EventType> = Extract<WebhookEvent, { type: T }>;
/** The catalog as the spec's `webhooks` section declares it (one POST per event type). */
export type WebhookOperations = webhooks;
export type ListEventsQuery = NonNullable<operations['listEvents']['parameters']['query']>;
export type PageQuery = NonNullable<operations['listWebhookEndpoints']['parameters']['query']>;
export { WebhookVerificationError };

/** Headers as a fetch `Headers`, a Node `IncomingHttpHeaders`, or a plain record. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a webhook request the Standard Webhooks way (`webhook-id`,
 * `webhook-timestamp` within five minutes, `webhook-signature` by the
 * endpoint's `whsec_…` secret) and returns the parsed event. Pass the raw
 * body exactly as received: a re-serialised JSON body does not verify.
 * Throws WebhookVerificationError for a forged, altered or stale request.
 */
export function verifyWebhook(payload: string | Uint8Array, headers: WebhookHeaders, secret: string): WebhookEvent {
  const flat: Record<string, string> = {};
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    headers.forEach((value, key) => {
      flat[key] = value;
    });
  } else {
    for (const [key, value] of Object.entries(headers))
      if (value !== undefined) flat[key.toLowerCase()] = [value].flat().join(', ');
  }
  const body = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  return new Webhook(secret).verify(body, flat) as WebhookEvent;
}

/** A new random signing secret in the `whsec_…` form (what `djcast webhooks listen` signs its forwards with). */
export function generateWebhookSecret(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** The Standard Webhooks headers for `payload`, signed with `secret` (as the server signs deliveries). */
export function signWebhook(
  id: string,
  payload: string,
  secret: string,
  timestamp: Date = new Date(),
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, timestamp, payload),
  };
}

export function webhooksApi({ raw }: ApiContext) {
  const path = (id: string) => ({ params: { path: { id } } });
  const list = (query: PageQuery = {}): Promise<WebhookEndpointList> =>
    unwrap(raw.GET('/v1/webhook-endpoints', { params: { query } }));
  return {
    /** Registers an endpoint; `secret` (whsec_…) is in this response only. */
    create: (body: CreateWebhookEndpointRequest): Promise<CreatedWebhookEndpoint> =>
      unwrap(raw.POST('/v1/webhook-endpoints', { body })),
    list,
    iterate: (): AsyncGenerator<WebhookEndpoint> => paginate((cursor) => list({ starting_after: cursor })),
    get: (id: string): Promise<WebhookEndpoint> => unwrap(raw.GET('/v1/webhook-endpoints/{id}', path(id))),
    update: (id: string, body: UpdateWebhookEndpointRequest): Promise<WebhookEndpoint> =>
      unwrap(raw.PATCH('/v1/webhook-endpoints/{id}', { ...path(id), body })),
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/webhook-endpoints/{id}', path(id))),
    /** A new secret; the previous one keeps signing next to it for `overlap_seconds` (default a day). */
    rotateSecret: (id: string, overlapSeconds?: number): Promise<CreatedWebhookEndpoint> =>
      unwrap(
        raw.POST('/v1/webhook-endpoints/{id}/rotate-secret', {
          ...path(id),
          body: overlapSeconds === undefined ? {} : { overlap_seconds: overlapSeconds },
        }),
      ),
    /** Every delivery attempt to the endpoint, newest first. */
    deliveries: (id: string, query: PageQuery = {}): Promise<WebhookDeliveryAttemptList> =>
      unwrap(raw.GET('/v1/webhook-endpoints/{id}/deliveries', { params: { path: { id }, query } })),
  };
}

export interface EventStreamOptions {
  /** Only these types (all when absent). */
  types?: EventType[];
  /** Resume after this event (what the last one received carried as `id`). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Called once the server accepted the stream: from then on no event is missed. */
  onOpen?: () => void;
}

export function eventsApi({ raw }: ApiContext) {
  const list = (query: ListEventsQuery = {}): Promise<EventList> => unwrap(raw.GET('/v1/events', { params: { query } }));
  return {
    list,
    iterate: (query: Omit<ListEventsQuery, 'starting_after'> = {}): AsyncGenerator<WebhookEvent> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    get: (id: string): Promise<WebhookEvent> => unwrap(raw.GET('/v1/events/{id}', { params: { path: { id } } })),
    /** Delivers the event again, to one endpoint or every enabled endpoint subscribed to its type. */
    resend: (id: string, endpointId?: string) =>
      unwrap(
        raw.POST('/v1/events/{id}/resend', { params: { path: { id } }, body: endpointId ? { endpoint_id: endpointId } : {} }),
      ),
    /**
     * Your events as they happen (Server-Sent Events), until `signal` aborts
     * or the connection ends; reconnect with `lastEventId` to resume.
     */
    async *stream(options: EventStreamOptions = {}): AsyncGenerator<WebhookEvent> {
      const { response, error } = await raw.GET('/v1/events/stream', {
        params: {
          query: options.types?.length ? { types: options.types.join(',') } : {},
          header: options.lastEventId ? { 'last-event-id': options.lastEventId } : {},
        },
        parseAs: 'stream',
        signal: options.signal,
      });
      if (!response.ok || !response.body) await unwrap(Promise.resolve({ error, response }));
      options.onOpen?.();
      yield* parseEventStream(response.body!, options.signal);
    },
  };
}

/** Reads an SSE body: each message's `data` is one event as JSON; comments and other fields are skipped. */
async function* parseEventStream(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<WebhookEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Not every fetch ends the body when the request's signal aborts (an in-process app.fetch does not): cancel it here.
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  let buffer = '';
  try {
    for (;;) {
      if (signal?.aborted) return;
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) yield JSON.parse(data) as WebhookEvent;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
