import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely } from 'kysely';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Principal } from '../../core/principal.js';
import type { Database } from '../../db/tables.js';
import type { Logger } from '../../logger.js';
import { serveBlob, type MediaAnswer } from '../uploads/blob-response.js';
import type { EnclosureSigner } from '../podcasts/enclosure-signing.js';
import type { AdBreakOrder, RelaysService } from '../relays/service.js';
import type { StreamsService } from '../streams/service.js';
import type { AdBreakView, CreateAdBreak } from './live-break-schemas.js';
import type { AdsService, LiveAdVariant } from './service.js';

export interface LiveBreaksDeps {
  db: Kysely<Database>;
  store: BlobStore;
  streams: StreamsService;
  relays: RelaysService;
  ads: AdsService;
  /** Signs the URL the relay fetches the ad's audio from (local storage; S3 presigns). */
  signer: EnclosureSigner;
  logger: Logger;
  clock?: () => Date;
}

/** How long after it was asked for a break may still start (the relay's heartbeat and the ad's normalization fit in it). */
const START_WITHIN_SECONDS = 120;
/** How long a scheduled marker's break is offered to the relay after its `starts_at`. */
const SCHEDULED_WINDOW_SECONDS = 60;
/** Validity of the ad URL handed to the relay: it starts fetching at once. */
const AUDIO_URL_SECONDS = 600;

/**
 * Live ad breaks: the DJ starts one now (`POST /v1/streams/{id}/ad-breaks`,
 * `djcast ads break`), or a stream marker's `starts_at` comes; the relay is
 * told on its next heartbeat (receipt `ad_break`, with a signed URL of the
 * ad's normalized MP3) and swaps the source's frames for the ad's for the
 * break's duration. The break's id is the EXT-X-DATERANGE ID in the live
 * playlist.
 */
export class LiveBreaks {
  private readonly clock: () => Date;

  constructor(private readonly deps: LiveBreaksDeps) {
    this.clock = deps.clock ?? (() => new Date());
    deps.relays.extendReceipt(async (streamId, input) => {
      await this.noteTaken(streamId, input.ad_breaks_taken ?? []);
      return { ad_break: await this.orderFor(streamId) };
    });
  }

  /**
   * The relay reports the breaks it has taken on (started, played or failed): they are not offered again,
   * so a restarted relay does not replay one and the next break is not hidden behind one already played.
   * Only the reporting relay's stream's breaks are touched.
   */
  async noteTaken(streamId: string, ids: readonly string[]): Promise<void> {
    const breaks = ids.filter((id) => id.startsWith('brk_'));
    const markers = ids.filter((id) => id.startsWith('adm_'));
    if (breaks.length === 0 && markers.length === 0) return;
    const at = this.clock().toISOString();
    await this.deps.db.transaction().execute(async (tx) => {
      if (breaks.length > 0)
        await tx
          .updateTable('ad_breaks')
          .set({ taken_at: at })
          .where('stream_id', '=', streamId)
          .where('id', 'in', breaks)
          .where('taken_at', 'is', null)
          .execute();
      if (markers.length > 0)
        await tx
          .updateTable('ad_markers')
          .set({ taken_at: at })
          .where('stream_id', '=', streamId)
          .where('id', 'in', markers)
          .where('starts_at', 'is not', null)
          .where('taken_at', 'is', null)
          .execute();
    });
  }

  async start(principal: Principal, streamId: string, input: CreateAdBreak): Promise<AdBreakView> {
    const stream = await this.deps.streams.getOwned(principal, streamId);
    if (stream.status !== 'live')
      throw new DomainError('conflict', `Stream ${streamId} is ${stream.status}; an ad break plays only while it is live.`, {
        stream_status: stream.status,
      });
    const markerId = await this.markerFor(principal, streamId, input);
    const now = this.clock();
    const id = newId('brk', now.getTime());
    await this.deps.db
      .insertInto('ad_breaks')
      .values({
        id,
        owner_id: stream.owner_id,
        stream_id: streamId,
        marker_id: markerId,
        duration_seconds: input.duration_seconds,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + START_WITHIN_SECONDS * 1000).toISOString(),
      })
      .execute();
    this.deps.logger.info(
      {
        event: 'ads.break_requested',
        stream_id: streamId,
        break_id: id,
        marker_id: markerId,
        duration_seconds: input.duration_seconds,
      },
      'live ad break requested',
    );
    return this.view(principal, id);
  }

  private async markerFor(principal: Principal, streamId: string, input: CreateAdBreak): Promise<string> {
    const source = input.source;
    if (source && 'marker_id' in source) {
      const marker = await this.deps.ads.get(principal, source.marker_id);
      if (marker.stream_id !== streamId)
        throw new DomainError('validation_failed', `Ad marker ${source.marker_id} is not one of this stream's.`, {
          errors: [{ path: 'source.marker_id', message: 'not a marker of this stream' }],
        });
      return marker.id;
    }
    if (source) {
      // A new source: an on-demand marker of the stream, normalized in the background; the break starts once it is ready.
      const marker = await this.deps.ads.createForStream(principal, streamId, {
        duration_seconds: input.duration_seconds,
        source,
        kind: 'mid-roll',
      });
      return marker.id;
    }
    const latest = await this.deps.db
      .selectFrom('ad_markers')
      .select('id')
      .where('stream_id', '=', streamId)
      .where('kind', '=', 'mid-roll')
      .where('starts_at', 'is', null)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!latest)
      throw new DomainError('validation_failed', 'This stream has no on-demand ad marker: give a `source`.', {
        errors: [{ path: 'source', message: 'required when the stream has no on-demand ad marker' }],
      });
    return latest.id;
  }

  async view(principal: Principal, id: string): Promise<AdBreakView> {
    const row = await this.deps.db
      .selectFrom('ad_breaks')
      .innerJoin('ad_markers', 'ad_markers.id', 'ad_breaks.marker_id')
      .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
      .selectAll('ad_breaks')
      .select(['ad_renditions.status'])
      .where('ad_breaks.id', '=', id)
      .executeTakeFirst();
    if (!row) throw new NotFound('Ad break', id);
    if (row.owner_id !== principal.userId) await this.deps.streams.getOwned(principal, row.stream_id);
    return {
      id: row.id,
      stream_id: row.stream_id,
      marker_id: row.marker_id,
      duration_seconds: row.duration_seconds,
      status: row.status,
      created_at: row.created_at,
      expires_at: row.expires_at,
    };
  }

  /**
   * The break the stream's relay should play now, or null: nothing while the stream is not live (a relay
   * that is starting or reconnecting could not play it, and would count it taken). A requested break
   * first, then a scheduled marker whose `starts_at` has come, offered for SCHEDULED_WINDOW_SECONDS; neither
   * once the relay has reported it taken.
   */
  async orderFor(streamId: string): Promise<AdBreakOrder | null> {
    const stream = await this.deps.db.selectFrom('streams').select('status').where('id', '=', streamId).executeTakeFirst();
    if (stream?.status !== 'live') return null;
    const now = this.clock();
    const iso = now.toISOString();
    const requested = await this.deps.db
      .selectFrom('ad_breaks')
      .innerJoin('ad_markers', 'ad_markers.id', 'ad_breaks.marker_id')
      .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
      .select([
        'ad_breaks.id',
        'ad_breaks.marker_id',
        'ad_breaks.duration_seconds',
        'ad_renditions.mp3_key',
        'ad_markers.owner_id',
        'ad_markers.source_upload_id',
        'ad_markers.source_url',
        'ad_markers.duration_seconds as marker_duration_seconds',
      ])
      .where('ad_breaks.stream_id', '=', streamId)
      .where('ad_breaks.expires_at', '>', iso)
      .where('ad_breaks.taken_at', 'is', null)
      .where('ad_renditions.status', '=', 'ready')
      .orderBy('ad_breaks.id', 'desc')
      .executeTakeFirst();
    if (requested?.mp3_key) {
      const variants = await this.deps.ads.liveVariants({ ...requested, duration_seconds: requested.marker_duration_seconds });
      return this.order(requested.id, requested.marker_id, requested.duration_seconds, requested.mp3_key, variants);
    }
    // A scheduled mid-roll (`starts_at`) whose time has come: offered for a minute, its own id as the break's.
    const scheduled = await this.deps.db
      .selectFrom('ad_markers')
      .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
      .select([
        'ad_markers.id',
        'ad_markers.duration_seconds',
        'ad_renditions.mp3_key',
        'ad_markers.owner_id',
        'ad_markers.source_upload_id',
        'ad_markers.source_url',
      ])
      .where('ad_markers.stream_id', '=', streamId)
      .where('ad_markers.kind', '=', 'mid-roll')
      .where('ad_markers.starts_at', '<=', iso)
      .where('ad_markers.starts_at', '>', new Date(now.getTime() - SCHEDULED_WINDOW_SECONDS * 1000).toISOString())
      .where('ad_markers.taken_at', 'is', null)
      .where('ad_renditions.status', '=', 'ready')
      .orderBy('ad_markers.starts_at', 'desc')
      .executeTakeFirst();
    if (scheduled?.mp3_key) {
      const variants = await this.deps.ads.liveVariants(scheduled);
      return this.order(scheduled.id, scheduled.id, scheduled.duration_seconds, scheduled.mp3_key, variants);
    }
    return null;
  }

  private async order(
    id: string,
    markerId: string,
    duration: number,
    key: string,
    variants: LiveAdVariant[],
  ): Promise<AdBreakOrder> {
    const order: AdBreakOrder = { id, ad_id: markerId, url: await this.audioUrl(id, key, null), duration_seconds: duration };
    if (variants.length > 0)
      order.variants = await Promise.all(
        variants.map(async (v) => ({ sample_rate: v.sampleRate, url: await this.audioUrl(id, v.mp3Key, v.sampleRate) })),
      );
    return order;
  }

  /** Presigned by the object store, or a signed path on the API (relative: the relay resolves it against its API URL). */
  private async audioUrl(id: string, key: string, sampleRate: number | null): Promise<string> {
    const presigned = await this.deps.store.presignedGetUrl(key, AUDIO_URL_SECONDS);
    if (presigned) return presigned;
    const s = this.deps.signer.sign(signedName(id, sampleRate), null, { ttlSeconds: AUDIO_URL_SECONDS });
    return `/v1/ad-breaks/${id}/audio?${sampleRate ? `rate=${sampleRate}&` : ''}exp=${s.exp}&sig=${s.sig}`;
  }

  /**
   * GET /v1/ad-breaks/{id}/audio: the ad's normalized MP3 (`rate`: its variant at that sample rate), for a
   * correctly signed, unexpired URL only.
   */
  async audio(
    id: string,
    given: { exp?: string | undefined; sig?: string | undefined; rate?: number | undefined },
  ): Promise<MediaAnswer> {
    const check = this.deps.signer.check(signedName(id, given.rate ?? null), given);
    if (check !== 'valid')
      throw new DomainError('forbidden', check === 'expired' ? 'This ad URL has expired.' : 'This ad URL is not signed.');
    const markerId = id.startsWith('brk_')
      ? (await this.deps.db.selectFrom('ad_breaks').select('marker_id').where('id', '=', id).executeTakeFirst())?.marker_id
      : id;
    const row = markerId
      ? await this.deps.db
          .selectFrom('ad_markers')
          .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
          .select([
            'ad_renditions.mp3_key',
            'ad_markers.owner_id',
            'ad_markers.source_upload_id',
            'ad_markers.source_url',
            'ad_markers.duration_seconds',
          ])
          .where('ad_markers.id', '=', markerId)
          .executeTakeFirst()
      : undefined;
    let key = row?.mp3_key ?? null;
    if (row && given.rate) key = (await this.deps.ads.liveVariants(row)).find((v) => v.sampleRate === given.rate)?.mp3Key ?? null;
    const answer = key ? await serveBlob(this.deps.store, key, 'private, no-store') : null;
    if (!answer) throw new NotFound('Ad break', id);
    return answer;
  }
}

/** What an ad URL's signature covers: the break, and the variant's sample rate if any. */
const signedName = (id: string, sampleRate: number | null) => (sampleRate ? `${id}@${sampleRate}` : id);
