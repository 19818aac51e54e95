import { createHash } from 'node:crypto';
import { statsUrlFor } from '@djcast/relay';
import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely, Transaction } from 'kysely';
import type { Mailer } from '../../adapters/mailer/index.js';
import type { RelayLauncher, RelaySpec, RelayTiming } from '../../adapters/relay-launcher/types.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, RelaysTable, StreamsTable } from '../../db/tables.js';
import { DomainError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Logger } from '../../logger.js';
import type { FieldCipher } from '../../secrets.js';
import { RELAY_TOKEN_PREFIX, hashToken, newOpaqueToken, safeEqualHex } from '../auth/tokens.js';
import * as repo from './repository.js';

export type RelayState = 'starting' | 'live' | 'reconnecting' | 'offline';
export type StreamState = RelayState | 'inactive' | 'stopped';
export type SourceKind = 'icecast' | 'shoutcast1' | 'shoutcast2';

export interface RelaySettings {
  /** Base URL workers send heartbeats to. */
  apiUrl: string;
  audio: 'aac' | 'copy';
  heartbeatTimeoutMs: number;
  offlineAfterMs: number;
  segmentSeconds: number;
  heartbeatIntervalMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** DJCAST_STORAGE* / DJCAST_S3_* for the worker's blob store. */
  storageEnv: Record<string, string>;
  /** The worker may read sources on loopback and private addresses (DJCAST_ALLOW_PRIVATE_URLS). */
  allowPrivateUrls?: boolean;
}

export interface HeartbeatInput {
  state: RelayState;
  listener_count?: number | null;
  relay_connections?: number | null;
  cpu_usage?: number | null;
  segment_lag_seconds?: number | null;
  current_track?: string | null;
  bitrate_kbps?: number | null;
  media_sequence?: number | null;
  source_kind?: SourceKind | null;
  content_type?: string | null;
  /** Live ad breaks (brk_… or a scheduled marker's adm_…) the worker has taken on: started, played or failed. */
  ad_breaks_taken?: string[] | null;
}

export interface SourceFacts {
  kind: SourceKind;
  statsUrl: string;
  contentType: string | null;
  bitrateKbps: number | null;
}

export interface RelayStatus {
  relay_id: string | null;
  state: StreamState;
  current_track: string | null;
  bitrate_kbps: number | null;
  listener_count: number;
  hls_listeners: number;
  source_listeners: number;
  cpu_usage: number | null;
  segment_lag_seconds: number | null;
  last_heartbeat_at: string | null;
  source_kind: SourceKind | null;
  content_type: string | null;
}

/**
 * Told, inside the transaction that changes it, that a stream's state
 * changed (the streams feature registers one that emits `stream.<state>`).
 */
export type StreamStateListener = (tx: Transaction<Database>, streamId: string, state: RelayState) => Promise<void>;

/**
 * Adds fields to the heartbeat receipt for a stream (archives: where to keep the set's segments; ads: the
 * break to play, after noting the breaks the worker reports taken). Runs after the stream's state is updated.
 */
export type ReceiptExtension = (streamId: string, input: HeartbeatInput) => Promise<ReceiptExtras>;

/** Receipt fields other features add (HeartbeatResponse in schemas.ts). */
export interface ReceiptExtras {
  archive_prefix?: string | null;
  ad_break?: AdBreakOrder | null;
}

/** A live ad break the worker should play now (ads registers it). */
export interface AdBreakOrder {
  id: string;
  ad_id: string | null;
  /** The ad's normalized MP3 at 44.1 kHz: presigned, or a signed path on the API. */
  url: string;
  /** The same ad normalized at each other sample rate it is ready in; the worker plays the one of its source's rate. */
  variants?: AdBreakVariant[];
  duration_seconds: number;
}

export interface AdBreakVariant {
  sample_rate: number;
  url: string;
}

export interface RelayMetricRow {
  streamId: string;
  relayId: string;
  listeners: number;
  cpuUsage: number | null;
  lastHeartbeatSeconds: number | null;
}

/**
 * The lifecycle of the worker that relays one stream: launch with a fresh
 * per-relay token, heartbeats that drive the stream's state, listener
 * counting, reconfiguration, stop, and the watchdog's restart of a silent
 * worker. Knows nothing of HTTP; the launcher, blob store and mailer are
 * adapters handed in by the container.
 */
export class RelaysService {
  private readonly stateListeners: StreamStateListener[] = [];
  private readonly receiptExtensions: ReceiptExtension[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly launcher: RelayLauncher,
    private readonly blobs: BlobStore,
    private readonly mailer: Mailer,
    private readonly cipher: FieldCipher,
    private readonly logger: Logger,
    private readonly settings: RelaySettings,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** A feature that reports stream states (streams, for its events) registers here, so dependencies run one way. */
  onStreamStateChange(listener: StreamStateListener): void {
    this.stateListeners.push(listener);
  }

  /** What a worker is told back on each heartbeat, beyond the receipt (archives registers one). */
  extendReceipt(extension: ReceiptExtension): void {
    this.receiptExtensions.push(extension);
  }

  private async streamStateChanged(tx: Transaction<Database>, streamId: string, state: RelayState): Promise<void> {
    for (const listener of this.stateListeners) await listener(tx, streamId, state);
  }

  get launcherKind(): RelayLauncher['kind'] {
    return this.launcher.kind;
  }

  /** Window in which an HLS session counts as listening: two segment durations. */
  get listenerWindowMs(): number {
    return 2 * this.settings.segmentSeconds * 1000;
  }

  get segmentSeconds(): number {
    return this.settings.segmentSeconds;
  }

  /** Creates the stream's relay record and starts its worker; the stream is `starting` until the first heartbeat says more. */
  async launch(stream: StreamsTable, source: SourceFacts): Promise<RelaysTable> {
    const now = nowIso(this.clock());
    const token = newOpaqueToken(RELAY_TOKEN_PREFIX);
    const relay: RelaysTable = {
      id: newId('rly'),
      stream_id: stream.id,
      token_hash: hashToken(token),
      state: 'starting',
      source_kind: source.kind,
      content_type: source.contentType,
      bitrate_kbps: source.bitrateKbps,
      current_track: null,
      source_listeners: 0,
      cpu_usage: null,
      segment_lag_seconds: null,
      media_sequence: null,
      last_heartbeat_at: null,
      started_at: now,
      stalled_at: null,
      restarts: 0,
      created_at: now,
      updated_at: now,
    };
    await repo.insertRelay(this.db, relay);
    try {
      await this.launcher.start(this.spec(stream, relay.id, token, source.statsUrl));
    } catch (error) {
      await repo.deleteRelay(this.db, relay.id);
      this.logger.error(
        { event: 'relay.start_failed', relay_id: relay.id, stream_id: stream.id, err: error },
        'relay worker did not start',
      );
      throw new DomainError(
        'unavailable',
        `The relay worker could not be started: ${(error as Error).message}. Try again shortly.`,
      );
    }
    this.logger.info(
      { event: 'relay.started', relay_id: relay.id, stream_id: stream.id, launcher: this.launcher.kind },
      'relay worker started',
    );
    return relay;
  }

  /**
   * Replaces the worker with one built from the stream as it is now (after a
   * visibility, paywall or credential change, or a stall). The token rotates:
   * only the new worker can report.
   */
  async restart(stream: StreamsTable, reason: 'reconfigured' | 'stalled'): Promise<RelaysTable | null> {
    const relay = await repo.findRelayByStream(this.db, stream.id);
    if (!relay) return null;
    const token = newOpaqueToken(RELAY_TOKEN_PREFIX);
    const now = nowIso(this.clock());
    const patch: Partial<RelaysTable> = {
      token_hash: hashToken(token),
      started_at: now,
      restarts: relay.restarts + 1,
      updated_at: now,
      // A silent worker is being replaced: listeners are waiting for it to come back.
      ...(reason === 'stalled' ? { state: 'reconnecting' as const } : {}),
    };
    await repo.updateRelay(this.db, relay.id, patch);
    const kind = (relay.source_kind ?? stream.source_kind ?? 'icecast') as SourceKind;
    try {
      await this.launcher.restart(this.spec(stream, relay.id, token, statsUrlFor(kind, streamUrl(stream))));
    } catch (error) {
      this.logger.error(
        { event: 'relay.restart_failed', relay_id: relay.id, stream_id: stream.id, reason, err: error },
        'relay worker did not restart',
      );
      throw new DomainError(
        'unavailable',
        `The relay worker could not be restarted: ${(error as Error).message}. Try again shortly.`,
      );
    }
    if (reason === 'stalled') {
      await this.db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('streams').select('status').where('id', '=', stream.id).executeTakeFirst();
        await tx.updateTable('streams').set({ status: 'reconnecting', updated_at: now }).where('id', '=', stream.id).execute();
        if (before && before.status !== 'reconnecting') await this.streamStateChanged(tx, stream.id, 'reconnecting');
      });
    }
    this.logger.info({ event: 'relay.restarted', relay_id: relay.id, stream_id: stream.id, reason }, 'relay worker restarted');
    return { ...relay, ...patch };
  }

  /** Stops the worker and removes everything it wrote; the stream's rows go with the stream. */
  async stop(streamId: string): Promise<void> {
    const relay = await repo.findRelayByStream(this.db, streamId);
    if (relay) {
      await this.launcher.stop(relay.id);
      await repo.deleteRelay(this.db, relay.id);
      this.logger.info({ event: 'relay.stopped', relay_id: relay.id, stream_id: streamId }, 'relay worker stopped');
    }
    await this.blobs.deletePrefix(`streams/${streamId}/`);
  }

  /** The relay a heartbeat token belongs to, compared in constant time; null for anything else. */
  async authenticate(relayId: string, token: string): Promise<RelaysTable | null> {
    const relay = await repo.findRelay(this.db, relayId);
    const presented = hashToken(token);
    // Compare against something even when the relay does not exist, so timing says nothing.
    const ok = safeEqualHex(presented, relay?.token_hash ?? hashToken(''));
    return relay && ok ? relay : null;
  }

  async heartbeat(
    relay: RelaysTable,
    input: HeartbeatInput,
  ): Promise<{ relay_id: string; stream_id: string; state: RelayState; received_at: string } & ReceiptExtras> {
    const at = this.clock();
    const now = nowIso(at);
    const windowStart = nowIso(new Date(at.getTime() - this.listenerWindowMs));
    await this.db.transaction().execute(async (trx) => {
      // The source lists every relay pulling the mount as a listener: this worker's own connection
      // (or, with the source's admin password, every djcast relay it saw in the client list) and the
      // relays of other streams registered on the same source and mount. Only the rest listen directly.
      const reported = input.relay_connections ?? 0;
      const others = await repo.countOtherLiveRelaysOnMount(trx, relay.stream_id);
      const relayConnections = Math.max(reported, Math.min(reported, 1) + others);
      const sourceListeners = Math.max(0, (input.listener_count ?? 0) - relayConnections);
      await repo.updateRelay(trx, relay.id, {
        state: input.state,
        last_heartbeat_at: now,
        stalled_at: null,
        source_listeners: sourceListeners,
        cpu_usage: input.cpu_usage ?? null,
        segment_lag_seconds: input.segment_lag_seconds ?? null,
        current_track: input.current_track ?? null,
        bitrate_kbps: input.bitrate_kbps ?? relay.bitrate_kbps,
        media_sequence: input.media_sequence ?? relay.media_sequence,
        source_kind: input.source_kind ?? relay.source_kind,
        content_type: input.content_type ?? relay.content_type,
        updated_at: now,
      });
      const before = await trx.selectFrom('streams').select('status').where('id', '=', relay.stream_id).executeTakeFirst();
      await trx
        .updateTable('streams')
        .set({ status: input.state, updated_at: now, ...(input.source_kind ? { source_kind: input.source_kind } : {}) })
        .where('id', '=', relay.stream_id)
        .execute();
      if (before && before.status !== input.state) await this.streamStateChanged(trx, relay.stream_id, input.state);
      await repo.pruneHlsSessions(trx, relay.stream_id, windowStart);
      const hls = await repo.countHlsSessions(trx, relay.stream_id, windowStart);
      await repo.insertListenerSample(trx, {
        stream_id: relay.stream_id,
        sampled_at: now,
        listener_count: hls + sourceListeners,
      });
    });
    if (relay.state !== input.state) {
      this.logger.info(
        { event: 'relay.state_changed', relay_id: relay.id, stream_id: relay.stream_id, from: relay.state, to: input.state },
        `relay ${input.state}`,
      );
    }
    const extra: ReceiptExtras = {};
    for (const extension of this.receiptExtensions) Object.assign(extra, await extension(relay.stream_id, input));
    return { ...extra, relay_id: relay.id, stream_id: relay.stream_id, state: input.state, received_at: now };
  }

  /** Remembers that a player fetched the live playlist; `sessionKey` comes from sessionKeyFor(). */
  async recordPlaybackSession(streamId: string, sessionKey: string): Promise<void> {
    await repo.touchHlsSession(this.db, streamId, sessionKey, nowIso(this.clock()));
  }

  /** Whether `sessionKey` fetched the stream's live playlist within the listener window (it is listening now). */
  async playbackSessionSeen(streamId: string, sessionKey: string): Promise<boolean> {
    const since = nowIso(new Date(this.clock().getTime() - this.listenerWindowMs));
    return repo.hlsSessionSeenSince(this.db, streamId, sessionKey, since);
  }

  async status(stream: StreamsTable): Promise<RelayStatus> {
    const relay = await repo.findRelayByStream(this.db, stream.id);
    const since = nowIso(new Date(this.clock().getTime() - this.listenerWindowMs));
    const hls = await repo.countHlsSessions(this.db, stream.id, since);
    const source = relay?.source_listeners ?? 0;
    return {
      relay_id: relay?.id ?? null,
      state: relay ? this.effectiveState(relay) : (stream.status as StreamState),
      current_track: relay?.current_track ?? null,
      bitrate_kbps: relay?.bitrate_kbps ?? null,
      listener_count: hls + source,
      hls_listeners: hls,
      source_listeners: source,
      cpu_usage: relay?.cpu_usage ?? null,
      segment_lag_seconds: relay?.segment_lag_seconds ?? null,
      last_heartbeat_at: relay?.last_heartbeat_at ?? null,
      source_kind: (relay?.source_kind ?? stream.source_kind) as SourceKind | null,
      content_type: relay?.content_type ?? null,
    };
  }

  /**
   * The worker marks itself offline once its source has been gone for the
   * offline window; a worker that cannot report at all (dead, unreachable)
   * is shown offline after the same window of silence.
   */
  private effectiveState(relay: RelaysTable): StreamState {
    const lastContact = Date.parse(relay.last_heartbeat_at ?? relay.started_at);
    if (this.clock().getTime() - lastContact > this.settings.offlineAfterMs) return 'offline';
    return relay.state;
  }

  /**
   * One watchdog pass: every relay silent for longer than the heartbeat
   * timeout is restarted through the launcher and its DJ is mailed, once per
   * stall (the next heartbeat ends the stall).
   */
  async restartSilentRelays(): Promise<string[]> {
    const now = this.clock();
    const cutoff = nowIso(new Date(now.getTime() - this.settings.heartbeatTimeoutMs));
    const silent = await repo.findSilentRelays(this.db, cutoff);
    const restarted: string[] = [];
    for (const relay of silent) {
      if (!(await repo.claimStall(this.db, relay.id, nowIso(now)))) continue;
      const log = this.logger.child({ relay_id: relay.id, stream_id: relay.stream_id });
      const silentFor = Math.round((now.getTime() - Date.parse(relay.last_heartbeat_at ?? relay.started_at)) / 1000);
      log.warn({ event: 'relay.stalled', silent_seconds: silentFor }, 'relay stopped sending heartbeats; restarting it');
      const stream = await this.db.selectFrom('streams').selectAll().where('id', '=', relay.stream_id).executeTakeFirst();
      if (!stream) continue;
      try {
        await this.restart(stream, 'stalled');
        restarted.push(relay.id);
      } catch (error) {
        log.error({ event: 'relay.restart_failed', err: error }, 'could not restart a stalled relay');
      }
      try {
        await this.mailer.send({
          to: relay.owner_email,
          kind: 'relay.stalled',
          subject: `Your stream "${relay.stream_name}" stopped relaying`,
          text:
            `The relay for your stream "${relay.stream_name}" (${relay.stream_id}) has not reported for ${silentFor} seconds, ` +
            `so djcast restarted it at ${nowIso(now)}.\n\n` +
            `Listeners may have heard a gap. If your source is still streaming, the relay should be live again within a minute; ` +
            `check with: djcast stream status ${relay.stream_id}\n`,
        });
      } catch (error) {
        log.error({ event: 'relay.stall_mail_failed', err: error }, 'could not mail the DJ about a stalled relay');
      }
    }
    return restarted;
  }

  /** Values for the relay_* Prometheus gauges, read from the shared database so every replica reports every relay. */
  async metricRows(): Promise<RelayMetricRow[]> {
    const since = nowIso(new Date(this.clock().getTime() - this.listenerWindowMs));
    const [relays, sessions] = await Promise.all([repo.listActiveRelays(this.db), repo.countHlsSessionsByStream(this.db, since)]);
    return relays.map((r) => ({
      streamId: r.stream_id,
      relayId: r.id,
      listeners: r.source_listeners + (sessions.get(r.stream_id) ?? 0),
      cpuUsage: r.cpu_usage,
      lastHeartbeatSeconds: r.last_heartbeat_at ? Date.parse(r.last_heartbeat_at) / 1000 : null,
    }));
  }

  private spec(stream: StreamsTable, relayId: string, token: string, statsUrl: string): RelaySpec {
    const s = this.settings;
    const timing: Partial<RelayTiming> = { offlineAfterMs: s.offlineAfterMs, segmentSeconds: s.segmentSeconds };
    if (s.heartbeatIntervalMs !== undefined) timing.heartbeatMs = s.heartbeatIntervalMs;
    if (s.backoffInitialMs !== undefined) timing.backoffInitialMs = s.backoffInitialMs;
    if (s.backoffMaxMs !== undefined) timing.backoffMaxMs = s.backoffMaxMs;
    const spec: RelaySpec = {
      relayId,
      streamId: stream.id,
      sourceUrl: streamUrl(stream),
      sourceKind: (stream.source_kind ?? 'icecast') as SourceKind,
      statsUrl,
      apiUrl: s.apiUrl,
      relayToken: token,
      audio: s.audio,
      paywall: paywallOf(stream),
      storageEnv: s.storageEnv,
      timing,
      ...(s.allowPrivateUrls ? { allowPrivateUrls: true } : {}),
    };
    if (stream.source_username) spec.sourceUsername = stream.source_username;
    if (stream.source_password_enc) spec.sourcePassword = this.cipher.decrypt(stream.source_password_enc);
    return spec;
  }
}

/** The paywall the worker is told about and playback enforces. */
export function paywallOf(stream: Pick<StreamsTable, 'visibility' | 'monetization_enabled'>): RelaySpec['paywall'] {
  return { enabled: stream.monetization_enabled === 1, visibility: stream.visibility };
}

/** The URL the relay pulls: the registered source URL with the mount as its path. */
export function streamUrl(stream: Pick<StreamsTable, 'source_url' | 'mount'>): string {
  const url = new URL(stream.source_url);
  url.pathname = stream.mount;
  return url.toString();
}

/**
 * Who is listening, without cookies: the playback token when the player
 * carries one, else the signed-in user, else a hash of address and user
 * agent. Hashed, so the table holds no tokens or addresses.
 */
export function sessionKeyFor(who: { token: string | null; userId: string | null; address: string; userAgent: string }): string {
  const h = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);
  if (who.token) return `t:${h(who.token)}`;
  if (who.userId) return `u:${who.userId}`;
  return `a:${h(`${who.address}\n${who.userAgent}`)}`;
}
