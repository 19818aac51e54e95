import type { Kysely, Transaction } from 'kysely';
import { isPrivateAddress, SourceTimeoutError, UrlNotAllowedError } from '@djcast/relay/net';
import type { Mailer } from '../../adapters/mailer/index.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { page } from '../../core/pagination.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, EventsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/tables.js';
import { EVENT_TYPES, type EventEnvelope } from '../../events/catalog.js';
import type { JobContext } from '../../jobs/definition.js';
import { enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import { describeError, OUTBOUND_DETAIL, outboundCode, postGuarded, type GuardedPostResult } from '../../net/outbound.js';
import type { FieldCipher } from '../../secrets.js';
import { DELIVER_WEBHOOK } from './delivery-job.js';
import * as repo from './repository.js';
import type {
  CreatedWebhookEndpointView,
  CreateWebhookEndpointRequest,
  DeliveryAttemptView,
  UpdateWebhookEndpointRequest,
  WebhookEndpointView,
} from './schemas.js';
import { newWebhookSecret, signedHeaders } from './signing.js';

type Tx = Transaction<Database>;

/** What one attempt came to. */
export type AttemptOutcome = 'succeeded' | 'http_error' | 'timeout' | 'network_error' | 'not_allowed';

/** Sends one signed POST; the default is the guarded client. Tests keep the default: the receiver is real. */
export type WebhookSender = (
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { allowPrivate: boolean; timeoutMs: number; excerptBytes: number; signal?: AbortSignal },
) => Promise<GuardedPostResult>;

export interface WebhooksDeps {
  db: Kysely<Database>;
  /** Encrypts the signing secrets at rest. */
  cipher: FieldCipher;
  mailer: Mailer;
  jobs: Pick<JobQueue, 'wake'>;
  logger: Logger;
  allowPrivateUrls: boolean;
  /** Per attempt, until the response headers are in. */
  timeoutMs: number;
  /** How long a delivery is retried, and an endpoint may keep failing, before giving up. */
  retryWindowMs: number;
  publicUrl: string;
  clock?: () => Date;
  /** Jitter source (0..1). */
  random?: () => number;
  send?: WebhookSender;
  /** Told about every attempt and every final outcome (the metrics). */
  observe?: { attempt(outcome: AttemptOutcome): void; delivery(outcome: 'succeeded' | 'failed'): void };
}

const EXCERPT_BYTES = 1024;
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_FACTOR = 6;
const BACKOFF_CAP_MS = 10 * 3600_000;

/**
 * The delay before retry `attempt` (1 after the first failure): 5 s, 30 s,
 * 3 min, 18 min, 1.8 h, then every 10 h, each ±20 % so endpoints that failed
 * together do not all come back at once.
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * BACKOFF_FACTOR ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Endpoints, the events they receive, and the delivery of each event to each endpoint, at least once. */
export class WebhooksService {
  private readonly clock: () => Date;
  private readonly random: () => number;
  private readonly send: WebhookSender;

  constructor(private readonly deps: WebhooksDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.random = deps.random ?? Math.random;
    this.send = deps.send ?? postGuarded;
  }

  // ---- endpoints

  async createEndpoint(principal: Principal, input: CreateWebhookEndpointRequest): Promise<CreatedWebhookEndpointView> {
    const url = this.checkUrl(input.url);
    const secret = newWebhookSecret();
    const now = nowIso(this.clock());
    const row: WebhookEndpointsTable = {
      id: newId('whe'),
      owner_id: principal.userId,
      url,
      description: input.description ?? null,
      event_types: JSON.stringify(normalizeTypes(input.events)),
      enabled: input.enabled === false ? 0 : 1,
      secret_enc: this.deps.cipher.encrypt(secret),
      previous_secret_enc: null,
      previous_secret_expires_at: null,
      failing_since: null,
      disabled_reason: null,
      lock_seq: 0,
      created_at: now,
      updated_at: now,
    };
    await repo.insertEndpoint(this.deps.db, row);
    this.deps.logger.info({ event: 'webhook.endpoint_created', endpoint_id: row.id }, 'webhook endpoint created');
    return { ...this.endpointView(row), secret };
  }

  async listEndpoints(principal: Principal, opts: { limit: number; starting_after?: string }) {
    const rows = await repo.listEndpoints(this.deps.db, {
      ownerId: isAdmin(principal) ? undefined : principal.userId,
      startingAfter: opts.starting_after,
      limit: opts.limit,
    });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.endpointView(r)) };
  }

  async getEndpoint(principal: Principal, id: string): Promise<WebhookEndpointView> {
    return this.endpointView(await this.ownedEndpoint(principal, id));
  }

  async updateEndpoint(principal: Principal, id: string, input: UpdateWebhookEndpointRequest): Promise<WebhookEndpointView> {
    const row = await this.ownedEndpoint(principal, id);
    const patch: Partial<WebhookEndpointsTable> = { updated_at: nowIso(this.clock()) };
    if (input.url !== undefined) patch.url = this.checkUrl(input.url);
    if (input.events !== undefined) patch.event_types = JSON.stringify(normalizeTypes(input.events));
    if (input.description !== undefined) patch.description = input.description;
    if (input.enabled !== undefined) {
      patch.enabled = input.enabled ? 1 : 0;
      // Re-enabled by its owner: a fresh start for the failure window.
      if (input.enabled) Object.assign(patch, { disabled_reason: null, failing_since: null });
    }
    await repo.updateEndpoint(this.deps.db, id, patch);
    return this.endpointView({ ...row, ...patch });
  }

  async deleteEndpoint(principal: Principal, id: string): Promise<void> {
    await this.ownedEndpoint(principal, id);
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.cancelQueuedJobsOf(tx, id, nowIso(this.clock()));
      await repo.deleteEndpoint(tx, id);
    });
  }

  /**
   * A new signing secret. The previous one keeps signing next to it for
   * `overlapSeconds` (both signatures are sent), so receivers can switch
   * without dropping a delivery.
   */
  async rotateSecret(principal: Principal, id: string, overlapSeconds: number): Promise<CreatedWebhookEndpointView> {
    const row = await this.ownedEndpoint(principal, id);
    const secret = newWebhookSecret();
    const now = this.clock();
    const patch: Partial<WebhookEndpointsTable> = {
      secret_enc: this.deps.cipher.encrypt(secret),
      previous_secret_enc: overlapSeconds > 0 ? row.secret_enc : null,
      previous_secret_expires_at: overlapSeconds > 0 ? nowIso(new Date(now.getTime() + overlapSeconds * 1000)) : null,
      updated_at: nowIso(now),
    };
    await repo.updateEndpoint(this.deps.db, id, patch);
    this.deps.logger.info(
      { event: 'webhook.secret_rotated', endpoint_id: id, overlap_seconds: overlapSeconds },
      'webhook secret rotated',
    );
    return { ...this.endpointView({ ...row, ...patch }), secret };
  }

  async listAttempts(principal: Principal, endpointId: string, opts: { limit: number; starting_after?: string }) {
    await this.ownedEndpoint(principal, endpointId);
    const rows = await repo.listAttempts(this.deps.db, { endpointId, startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return {
      ...result,
      data: result.data.map(
        (r): DeliveryAttemptView => ({
          id: r.id,
          delivery_id: r.delivery_id,
          event_id: r.event_id,
          event_type: r.event_type,
          attempt: r.attempt,
          outcome: r.outcome,
          status_code: r.status_code,
          latency_ms: r.latency_ms,
          response_excerpt: r.response_excerpt,
          error: r.error,
          delivery_state: r.delivery_state,
          next_attempt_at: r.delivery_state === 'pending' ? r.next_attempt_at : null,
          created_at: r.created_at,
        }),
      ),
    };
  }

  // ---- events

  async listEvents(principal: Principal, opts: { limit: number; starting_after?: string; type?: string }) {
    const rows = await repo.listEvents(this.deps.db, {
      ownerId: isAdmin(principal) ? undefined : principal.userId,
      type: opts.type,
      startingAfter: opts.starting_after,
      limit: opts.limit,
    });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map(envelopeOf) };
  }

  async getEvent(principal: Principal, id: string): Promise<EventEnvelope> {
    return envelopeOf(await this.ownedEvent(principal, id));
  }

  /** Sends an event again (a new delivery, outside the per-object order), to one endpoint or every subscribed one. */
  async resend(principal: Principal, eventId: string, endpointId?: string) {
    const event = await this.ownedEvent(principal, eventId);
    let targets: WebhookEndpointsTable[];
    if (endpointId) {
      const endpoint = await repo.findEndpoint(this.deps.db, endpointId);
      if (!endpoint || endpoint.owner_id !== event.owner_id) throw new NotFound('Webhook endpoint', endpointId);
      if (!endpoint.enabled) throw new DomainError('conflict', `Webhook endpoint ${endpointId} is disabled; enable it first.`);
      targets = [endpoint];
    } else {
      targets = (await repo.enabledEndpointsOf(this.deps.db, event.owner_id)).filter((e) => subscribes(e, event.type));
    }
    const now = this.clock();
    const deliveries = await this.deps.db.transaction().execute(async (tx) => {
      const out: { id: string; endpoint_id: string }[] = [];
      for (const endpoint of targets) {
        const d = await this.createDelivery(tx, endpoint, event, now, { ordered: false });
        out.push({ id: d.id, endpoint_id: endpoint.id });
      }
      return out;
    });
    this.deps.jobs.wake();
    return { event_id: event.id, deliveries };
  }

  /**
   * The owner's events created at or after `since`, oldest first, for the
   * live stream (`GET /v1/events/stream`).
   */
  eventsSince(ownerId: string, since: Date, limit = 100): Promise<EventEnvelope[]> {
    return repo.eventsSince(this.deps.db, ownerId, nowIso(since), limit).then((rows) => rows.map(envelopeOf));
  }

  async eventForStream(principal: Principal, id: string): Promise<EventEnvelope | null> {
    const row = await repo.findEvent(this.deps.db, id);
    return row && row.owner_id === principal.userId ? envelopeOf(row) : null;
  }

  now(): Date {
    return this.clock();
  }

  // ---- fan-out and delivery (jobs)

  /**
   * The fan-out job: the owner's events not yet fanned out, up to this one,
   * oldest first, each claimed once, each becoming one delivery per enabled
   * endpoint subscribed to its type. Earlier events go first even when their
   * jobs run later, so deliveries of one object keep the order of its events.
   */
  async fanOut(eventId: string): Promise<void> {
    const event = await repo.findEvent(this.deps.db, eventId);
    if (!event || event.fanned_out === 1) return;
    const created = await this.deps.db.transaction().execute(async (tx) => {
      let n = 0;
      for (const e of await repo.unfannedEventsOf(tx, event.owner_id, event.id)) {
        if (!(await repo.claimFanout(tx, e.id))) continue;
        const endpoints = (await repo.enabledEndpointsOf(tx, e.owner_id)).filter((ep) => subscribes(ep, e.type));
        for (const endpoint of endpoints) {
          await this.createDelivery(tx, endpoint, e, this.clock(), { ordered: true });
          n++;
        }
      }
      return n;
    });
    if (created > 0) this.deps.jobs.wake();
  }

  /** One delivery attempt (the delivery job). Failures are recorded and rescheduled here, not thrown. */
  async deliver(deliveryId: string, ctx: Pick<JobContext, 'signal' | 'logger'>): Promise<void> {
    const { db } = this.deps;
    const delivery = await repo.findDelivery(db, deliveryId);
    if (!delivery || delivery.state !== 'pending') return;
    const endpoint = await repo.findEndpoint(db, delivery.endpoint_id);
    if (!endpoint) return; // deleted: its deliveries went with it
    if (!endpoint.enabled) {
      await db.transaction().execute(async (tx) => {
        await repo.lockEndpoint(tx, endpoint.id);
        await this.finish(tx, delivery, 'failed', { last_error: 'the endpoint is disabled' });
      });
      return;
    }
    if (delivery.object_id) {
      // An earlier event of the same object has not been delivered yet: wait for it (it wakes this one).
      const blocked = await db.transaction().execute(async (tx) => {
        await repo.lockEndpoint(tx, endpoint.id);
        const first = await repo.firstOpenDelivery(tx, endpoint.id, delivery.object_id!);
        if (!first || first.id === delivery.id) return false;
        await repo.updateDelivery(tx, delivery.id, { state: 'waiting', next_attempt_at: null, updated_at: nowIso(this.clock()) });
        return true;
      });
      if (blocked) return;
    }
    const event = await repo.findEvent(db, delivery.event_id);
    if (!event) return;

    const secrets = [this.deps.cipher.decrypt(endpoint.secret_enc)];
    const now = this.clock();
    if (
      endpoint.previous_secret_enc &&
      endpoint.previous_secret_expires_at &&
      Date.parse(endpoint.previous_secret_expires_at) > now.getTime()
    ) {
      secrets.push(this.deps.cipher.decrypt(endpoint.previous_secret_enc));
    }
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'djcast-webhooks/1',
      ...signedHeaders(event.id, new Date(), event.payload, secrets),
    };
    const attempt = delivery.attempts + 1;
    const started = performance.now();
    let outcome: AttemptOutcome;
    let status: number | null = null;
    let excerpt: string | null = null;
    let error: string | null = null;
    try {
      const res = await this.send(endpoint.url, event.payload, headers, {
        allowPrivate: this.deps.allowPrivateUrls,
        timeoutMs: this.deps.timeoutMs,
        excerptBytes: EXCERPT_BYTES,
        signal: ctx.signal,
      });
      status = res.status;
      excerpt = res.excerpt.slice(0, EXCERPT_BYTES) || null;
      outcome = res.status >= 200 && res.status < 300 ? 'succeeded' : 'http_error';
    } catch (e) {
      if (ctx.signal.aborted) throw e; // shutting down: the job is retried as it is, no attempt recorded
      const cause = firstCause(e);
      outcome =
        outboundCode(e) === 'url_not_allowed' || cause instanceof UrlNotAllowedError
          ? 'not_allowed'
          : cause instanceof SourceTimeoutError
            ? 'timeout'
            : 'network_error';
      // What the endpoint's owner reads: no addresses or errno detail for refused ones (see net/outbound.ts).
      error =
        outcome === 'not_allowed'
          ? OUTBOUND_DETAIL.url_not_allowed
          : outcome === 'timeout'
            ? `No response within ${this.deps.timeoutMs} ms.`
            : 'The endpoint could not be reached.';
      ctx.logger.info(
        { event: 'webhook.attempt_error', endpoint_id: endpoint.id, internal_detail: describeError(e) },
        'webhook attempt failed',
      );
    }
    const latencyMs = Math.round(performance.now() - started);
    this.deps.observe?.attempt(outcome);
    const after = this.clock();
    const nowText = nowIso(after);
    let disabled = false;
    await db.transaction().execute(async (tx) => {
      await repo.lockEndpoint(tx, endpoint.id);
      await repo.insertAttempt(tx, {
        id: newId('wha', after.getTime()),
        delivery_id: delivery.id,
        endpoint_id: endpoint.id,
        event_id: event.id,
        event_type: event.type,
        attempt,
        outcome,
        status_code: status,
        latency_ms: latencyMs,
        response_excerpt: excerpt,
        error,
        created_at: nowText,
      });
      const common = { attempts: attempt, last_status_code: status, last_error: error ?? (status ? `HTTP ${status}` : null) };
      if (outcome === 'succeeded') {
        await this.finish(tx, delivery, 'succeeded', { ...common, last_error: null, delivered_at: nowText });
        await repo.updateEndpoint(tx, endpoint.id, { failing_since: null });
        return;
      }
      const current = await repo.findEndpoint(tx, endpoint.id);
      const failingSince = current?.failing_since ?? nowText;
      if (!current?.failing_since) await repo.updateEndpoint(tx, endpoint.id, { failing_since: failingSince });
      const windowOver = after.getTime() - Date.parse(delivery.created_at) >= this.deps.retryWindowMs;
      if (!windowOver) {
        const delayMs = retryDelayMs(attempt, this.random);
        await repo.updateDelivery(tx, delivery.id, {
          ...common,
          next_attempt_at: nowIso(new Date(after.getTime() + delayMs)),
          updated_at: nowText,
        });
        await enqueue(
          tx,
          DELIVER_WEBHOOK,
          { delivery_id: delivery.id },
          {
            ownerId: endpoint.id,
            resourceId: endpoint.id,
            delayMs,
            now: after,
          },
        );
        return;
      }
      await this.finish(tx, delivery, 'failed', common);
      if (after.getTime() - Date.parse(failingSince) >= this.deps.retryWindowMs && current?.enabled === 1) {
        const reason = `Deliveries failed for ${Math.round(this.deps.retryWindowMs / 3600_000)} hours; the last answer: ${common.last_error ?? 'none'}.`;
        await repo.updateEndpoint(tx, endpoint.id, { enabled: 0, disabled_reason: reason.slice(0, 500), updated_at: nowText });
        await repo.failOpenDeliveriesOf(tx, endpoint.id, 'the endpoint was disabled', nowText);
        await repo.cancelQueuedJobsOf(tx, endpoint.id, nowText);
        disabled = true;
      }
    });
    this.deps.jobs.wake();
    if (disabled) await this.mailDisabled(endpoint, ctx.logger);
  }

  /** The delivery job itself failed for good: the delivery is given up (and the next of its object released). */
  async abandon(deliveryId: string, error: unknown, logger: Logger): Promise<void> {
    const delivery = await repo.findDelivery(this.deps.db, deliveryId);
    if (!delivery || (delivery.state !== 'pending' && delivery.state !== 'waiting')) return;
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.lockEndpoint(tx, delivery.endpoint_id);
      await this.finish(tx, delivery, 'failed', { last_error: 'the delivery could not be processed' });
    });
    this.deps.jobs.wake();
    logger.error({ event: 'webhook.delivery_abandoned', delivery_id: deliveryId, err: error }, 'webhook delivery given up');
  }

  /** A delivery is over: record it, and let the next event of the same object go. */
  private async finish(
    tx: Tx,
    delivery: WebhookDeliveriesTable,
    state: 'succeeded' | 'failed',
    patch: Partial<WebhookDeliveriesTable>,
  ): Promise<void> {
    const now = this.clock();
    await repo.updateDelivery(tx, delivery.id, { ...patch, state, next_attempt_at: null, updated_at: nowIso(now) });
    this.deps.observe?.delivery(state);
    if (!delivery.object_id) return;
    const next = await repo.firstOpenDelivery(tx, delivery.endpoint_id, delivery.object_id);
    if (next && next.state === 'waiting') {
      await repo.updateDelivery(tx, next.id, { state: 'pending', next_attempt_at: nowIso(now), updated_at: nowIso(now) });
      await enqueue(
        tx,
        DELIVER_WEBHOOK,
        { delivery_id: next.id },
        { ownerId: next.endpoint_id, resourceId: next.endpoint_id, now },
      );
    }
  }

  private async createDelivery(
    tx: Tx,
    endpoint: WebhookEndpointsTable,
    event: EventsTable,
    now: Date,
    opts: { ordered: boolean },
  ): Promise<WebhookDeliveriesTable> {
    await repo.lockEndpoint(tx, endpoint.id);
    const objectId = opts.ordered ? event.object_id : null;
    const ahead = objectId ? await repo.firstOpenDelivery(tx, endpoint.id, objectId) : undefined;
    const row: WebhookDeliveriesTable = {
      id: newId('whd', now.getTime()),
      endpoint_id: endpoint.id,
      event_id: event.id,
      owner_id: event.owner_id,
      object_id: objectId,
      state: ahead ? 'waiting' : 'pending',
      attempts: 0,
      next_attempt_at: ahead ? null : nowIso(now),
      last_status_code: null,
      last_error: null,
      created_at: nowIso(now),
      updated_at: nowIso(now),
      delivered_at: null,
    };
    await repo.insertDelivery(tx, row);
    if (!ahead) {
      // Claims are fair per endpoint: a slow or failing endpoint's queue never holds another's back.
      await enqueue(tx, DELIVER_WEBHOOK, { delivery_id: row.id }, { ownerId: endpoint.id, resourceId: endpoint.id, now });
    }
    return row;
  }

  private async mailDisabled(endpoint: WebhookEndpointsTable, logger: Logger): Promise<void> {
    logger.warn(
      { event: 'webhook.endpoint_disabled', endpoint_id: endpoint.id },
      'webhook endpoint disabled after failing deliveries',
    );
    const to = await repo.ownerEmail(this.deps.db, endpoint.owner_id);
    if (!to) return;
    const hours = Math.round(this.deps.retryWindowMs / 3600_000);
    try {
      await this.deps.mailer.send({
        to,
        kind: 'webhook.endpoint_disabled',
        subject: 'A djcast webhook endpoint was disabled',
        text:
          `Deliveries to your webhook endpoint ${endpoint.id} (${endpoint.url}) have failed for ${hours} hours, ` +
          'so djcast disabled it and stopped retrying.\n\n' +
          `See what it answered: djcast webhooks deliveries ${endpoint.id}\n` +
          `Once it works again, enable it: djcast webhooks update ${endpoint.id} --enable\n` +
          `and replay what it missed: djcast events resend <event id> --endpoint ${endpoint.id}\n`,
      });
    } catch (error) {
      logger.error(
        { event: 'webhook.disabled_mail_failed', endpoint_id: endpoint.id, err: error },
        'could not mail about a disabled endpoint',
      );
    }
  }

  // ---- helpers

  private async ownedEndpoint(principal: Principal, id: string): Promise<WebhookEndpointsTable> {
    const row = await repo.findEndpoint(this.deps.db, id);
    if (!row) throw new NotFound('Webhook endpoint', id);
    assertCanAccess(principal, row.owner_id, 'webhook endpoint');
    return row;
  }

  private async ownedEvent(principal: Principal, id: string): Promise<EventsTable> {
    const row = await repo.findEvent(this.deps.db, id);
    if (!row) throw new NotFound('Event', id);
    assertCanAccess(principal, row.owner_id, 'event');
    return row;
  }

  /** http or https, no credentials in it, and not a literal internal address (names are checked at each connection). */
  private checkUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidUrl('must be an absolute http or https URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidUrl('must be an http or https URL');
    if (url.username || url.password) throw invalidUrl('must not carry credentials');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const internal = host === 'localhost' || host.endsWith('.localhost') || (/^[\d.]+$|:/.test(host) && isPrivateAddress(host));
    if (internal && !this.deps.allowPrivateUrls) throw new DomainError('url_not_allowed', OUTBOUND_DETAIL.url_not_allowed);
    url.hash = '';
    return url.toString();
  }

  endpointView(row: WebhookEndpointsTable): WebhookEndpointView {
    const rotating =
      row.previous_secret_expires_at && Date.parse(row.previous_secret_expires_at) > this.clock().getTime()
        ? row.previous_secret_expires_at
        : null;
    return {
      id: row.id,
      owner_id: row.owner_id,
      url: row.url,
      description: row.description,
      events: JSON.parse(row.event_types) as WebhookEndpointView['events'],
      enabled: row.enabled === 1,
      disabled_reason: row.disabled_reason,
      failing_since: row.failing_since,
      secret_rotation_ends_at: rotating,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}

function invalidUrl(message: string): DomainError {
  return new DomainError('validation_failed', `url ${message}.`, { errors: [{ path: 'url', message }] });
}

function normalizeTypes(types: readonly string[]): string[] {
  return types.includes('*')
    ? ['*']
    : [...new Set(types)].sort((a, b) => EVENT_TYPES.indexOf(a as never) - EVENT_TYPES.indexOf(b as never));
}

function subscribes(endpoint: WebhookEndpointsTable, type: string): boolean {
  const types = JSON.parse(endpoint.event_types) as string[];
  return types.includes('*') || types.includes(type);
}

function envelopeOf(row: EventsTable): EventEnvelope {
  return JSON.parse(row.payload) as EventEnvelope;
}

function firstCause(error: unknown): unknown {
  let e = error;
  for (let depth = 0; e instanceof Error && depth < 6; depth++) {
    if (e instanceof UrlNotAllowedError || e instanceof SourceTimeoutError) return e;
    e = e.cause;
  }
  return error;
}
