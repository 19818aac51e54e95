import type { Kysely, Transaction } from 'kysely';
import { emitEvent } from '../../events/emit.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, StreamsTable } from '../../db/tables.js';
import { NotFound } from '../../core/errors.js';
import { page } from '../../core/pagination.js';
import { newId } from '../../core/ids.js';
import type { FieldCipher } from '../../secrets.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import { streamUrl, type RelaysService, type RelayState, type RelayStatus } from '../relays/service.js';
import { embedSnippet, pageUrl } from '../pages/urls.js';
import type { ArtworkPort } from '../artworks/service.js';
import * as repo from './repository.js';
import { parseSourceUrl, probeSourceOrExplain, type ProbeSettings, type SourceProber } from './source-probe.js';
import type { CreateStreamRequest, PlaybackTokenView, StreamView, UpdateStreamRequest } from './schemas.js';

/** The views are the routes' response types, inferred from the schemas. */
export type { StreamView, PlaybackTokenView };

export type CreateStreamInput = CreateStreamRequest;

export type UpdateStreamInput = UpdateStreamRequest;

export interface StreamStatusView extends RelayStatus {
  stream_id: string;
  playback_url: string;
}

/** Signs a playback grant for one resource (PlaybackAuthorizer.sign). */
export type PlaybackSigner = (
  resourceId: string,
  userId: string | null,
  ttlSeconds: number,
) => { token: string; expires_at: string };

/** Long enough for a whole DJ set: players keep re-fetching the playlist with the same token. */
export const PLAYBACK_TOKEN_TTL_SECONDS = 12 * 60 * 60;

/** What the archives feature does for streams (podcasts come after streams in the container). */
export interface StreamArchiveHooks {
  /** Refuses (422) a podcast the caller may not archive into. */
  check(principal: Principal, podcastId: string): Promise<void>;
  /** A stream was created (before: null) or its archive settings changed. */
  changed(before: StreamsTable | null, after: StreamsTable): Promise<void>;
}

/** What StreamsService is built from (the streams module hands these in). */
export interface StreamsDeps {
  db: Kysely<Database>;
  /** Encrypts source credentials at rest. */
  cipher: FieldCipher;
  publicUrl: string;
  relays: RelaysService;
  probe: ProbeSettings & { prober?: SourceProber };
  signPlayback: PlaybackSigner;
  /** Checks and serves `artwork_id` (the artworks feature). */
  artworks: ArtworkPort;
  clock?: () => Date;
}

export class StreamsService {
  private readonly db: Kysely<Database>;
  private readonly cipher: FieldCipher;
  private readonly publicUrl: string;
  private readonly relays: RelaysService;
  private readonly probe: ProbeSettings & { prober?: SourceProber };
  private readonly signPlayback: PlaybackSigner;
  private readonly clock: () => Date;
  private readonly artworks: ArtworkPort;
  private archiveHooks: StreamArchiveHooks | null = null;

  constructor(deps: StreamsDeps) {
    this.db = deps.db;
    this.cipher = deps.cipher;
    this.publicUrl = deps.publicUrl;
    this.relays = deps.relays;
    this.probe = deps.probe;
    this.signPlayback = deps.signPlayback;
    this.artworks = deps.artworks;
    this.clock = deps.clock ?? (() => new Date());
    // The relay's heartbeats (and the watchdog) change a stream's state: each change is an event, in that transaction.
    this.relays.onStreamStateChange((tx, streamId, state) => this.emitState(tx, streamId, state));
  }

  /** The archives feature checks `archive_to_podcast` and follows its changes. */
  useArchiveHooks(hooks: StreamArchiveHooks): void {
    this.archiveHooks = hooks;
  }

  private async checkArchiveTarget(principal: Principal, podcastId: string | null | undefined): Promise<void> {
    if (!podcastId) return;
    if (!this.archiveHooks) throw new Error('archive_to_podcast is set but the archives feature is not installed');
    await this.archiveHooks.check(principal, podcastId);
  }

  private async emitState(tx: Transaction<Database>, streamId: string, state: RelayState): Promise<void> {
    const row = await repo.findStream(tx, streamId);
    if (!row) return;
    await emitEvent(tx, { type: `stream.${state}`, ownerId: row.owner_id, object: this.view(row), now: this.clock() });
  }

  /**
   * Registers a source: probes it (422 when it is unreachable, not audio,
   * refuses the credentials or sits on a private address), stores the stream
   * with its credentials encrypted, and starts a relay worker for it.
   */
  async create(principal: Principal, input: CreateStreamInput): Promise<StreamView> {
    const url = parseSourceUrl(input.source_url);
    await this.checkArchiveTarget(principal, input.archive_to_podcast);
    await this.artworks.assertUsable(principal, input.artwork_id);
    const mount = input.mount ?? (url.pathname || '/');
    const source = await probeSourceOrExplain(
      streamUrl({ source_url: url.toString(), mount }),
      { username: input.source_username, password: input.source_password },
      this.probe,
      this.probe.prober,
    );
    const now = nowIso(this.clock());
    const row: StreamsTable = {
      id: newId('str'),
      owner_id: principal.userId,
      name: input.name,
      source_url: url.toString(),
      mount,
      visibility: input.visibility,
      monetization_enabled: input.monetization_enabled ? 1 : 0,
      source_kind: source.kind,
      source_username: input.source_username ?? null,
      source_password_enc: input.source_password ? this.cipher.encrypt(input.source_password) : null,
      status: 'starting',
      created_at: now,
      updated_at: now,
      archive_to_podcast: input.archive_to_podcast ?? null,
      archive_auto_publish: input.archive_auto_publish ? 1 : 0,
      artwork_id: input.artwork_id ?? null,
    };
    await repo.insertStream(this.db, row);
    try {
      await this.relays.launch(row, {
        kind: source.kind,
        statsUrl: source.statsUrl,
        contentType: source.contentType,
        bitrateKbps: source.bitrateKbps,
      });
    } catch (error) {
      await repo.deleteStream(this.db, row.id);
      throw error;
    }
    // The row was written before the worker could start (and removed if it did not): `starting` is reported once it did.
    await this.db.transaction().execute((tx) => this.emitState(tx, row.id, 'starting'));
    if (row.archive_to_podcast) await this.archiveHooks?.changed(null, row);
    return this.view(row);
  }

  async list(principal: Principal, opts: { limit: number; starting_after?: string; owner_id?: string }) {
    // Admins see every DJ's streams (optionally one owner's); everyone else their own.
    const ownerId = isAdmin(principal) ? opts.owner_id : principal.userId;
    const rows = await repo.listStreams(this.db, { ownerId, startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.view(r)) };
  }

  /** The row, after checking the caller may touch it. */
  async getOwned(principal: Principal, id: string): Promise<StreamsTable> {
    const row = await repo.findStream(this.db, id);
    if (!row) throw new NotFound('Stream', id);
    assertCanAccess(principal, row.owner_id, 'stream');
    return row;
  }

  async get(principal: Principal, id: string): Promise<StreamView> {
    return this.view(await this.getOwned(principal, id));
  }

  async update(principal: Principal, id: string, input: UpdateStreamInput): Promise<StreamView> {
    const row = await this.getOwned(principal, id);
    await this.checkArchiveTarget(principal, input.archive_to_podcast);
    await this.artworks.assertUsable(principal, input.artwork_id);
    const patch: Partial<StreamsTable> = { updated_at: nowIso(this.clock()) };
    if (input.artwork_id !== undefined) patch.artwork_id = input.artwork_id;
    if (input.archive_to_podcast !== undefined) patch.archive_to_podcast = input.archive_to_podcast;
    if (input.archive_auto_publish !== undefined) patch.archive_auto_publish = input.archive_auto_publish ? 1 : 0;
    if (input.name !== undefined) patch.name = input.name;
    if (input.visibility !== undefined) patch.visibility = input.visibility;
    if (input.monetization_enabled !== undefined) patch.monetization_enabled = input.monetization_enabled ? 1 : 0;
    if (input.source_username !== undefined) patch.source_username = input.source_username;
    if (input.source_password !== undefined) {
      patch.source_password_enc = input.source_password === null ? null : this.cipher.encrypt(input.source_password);
    }
    await repo.updateStream(this.db, id, patch);
    const updated = { ...row, ...patch };
    // The worker is built from visibility, paywall and credentials: give it the new ones.
    const reconfigure = (['visibility', 'monetization_enabled', 'source_username', 'source_password_enc'] as const).some(
      (k) => k in patch && patch[k] !== row[k],
    );
    if (reconfigure) await this.relays.restart(updated, 'reconfigured');
    if (updated.archive_to_podcast !== row.archive_to_podcast || updated.archive_auto_publish !== row.archive_auto_publish) {
      await this.archiveHooks?.changed(row, updated);
    }
    return this.view(updated);
  }

  /** Stops the relay, removes the stream's media, then the stream. */
  async delete(principal: Principal, id: string): Promise<void> {
    await this.getOwned(principal, id);
    await this.relays.stop(id);
    await repo.deleteStream(this.db, id);
  }

  async status(principal: Principal, id: string): Promise<StreamStatusView> {
    const row = await this.getOwned(principal, id);
    return { stream_id: row.id, ...(await this.relays.status(row)), playback_url: this.playbackUrl(row.id) };
  }

  /** A signed grant the owner (or an admin) hands to a player for a private or monetized stream. */
  async playbackToken(principal: Principal, id: string): Promise<PlaybackTokenView> {
    const row = await this.getOwned(principal, id);
    const { token, expires_at } = this.signPlayback(row.id, principal.userId, PLAYBACK_TOKEN_TTL_SECONDS);
    return { token, expires_at, playback_url_with_token: `${this.playbackUrl(row.id)}?token=${encodeURIComponent(token)}` };
  }

  /** The stream as the public playback routes need it: no ownership check, 404 when missing. */
  async findPlayable(id: string): Promise<StreamsTable> {
    const row = await repo.findStream(this.db, id);
    if (!row) throw new NotFound('Stream', id);
    return row;
  }

  playbackUrl(id: string): string {
    return `${this.publicUrl}/streams/${id}/live.m3u8`;
  }

  view(row: StreamsTable): StreamView {
    return {
      id: row.id,
      owner_id: row.owner_id,
      name: row.name,
      source_url: row.source_url,
      mount: row.mount,
      visibility: row.visibility,
      monetization_enabled: row.monetization_enabled === 1,
      source_kind: row.source_kind as StreamView['source_kind'],
      has_source_credentials: row.source_password_enc !== null || row.source_username !== null,
      status: row.status as StreamView['status'],
      playback_url: this.playbackUrl(row.id),
      page_url: pageUrl(this.publicUrl, 'stream', row.id),
      embed_html: embedSnippet(this.publicUrl, 'stream', row.id, row.name),
      archive_to_podcast: row.archive_to_podcast,
      archive_auto_publish: row.archive_auto_publish === 1,
      artwork_id: row.artwork_id,
      artwork_url: this.artworks.url(row.artwork_id),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}
