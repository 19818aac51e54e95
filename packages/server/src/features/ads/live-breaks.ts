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
import type { AdsService } from './service.js';

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
    deps.relays.extendReceipt(async (streamId) => ({ ad_break: await this.orderFor(streamId) }));
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

  /** The break the stream's relay should play now (the relay ignores one it has already taken), or null. */
  async orderFor(streamId: string): Promise<AdBreakOrder | null> {
    const now = this.clock();
    const iso = now.toISOString();
    const requested = await this.deps.db
      .selectFrom('ad_breaks')
      .innerJoin('ad_markers', 'ad_markers.id', 'ad_breaks.marker_id')
      .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
      .select(['ad_breaks.id', 'ad_breaks.marker_id', 'ad_breaks.duration_seconds', 'ad_renditions.mp3_key'])
      .where('ad_breaks.stream_id', '=', streamId)
      .where('ad_breaks.expires_at', '>', iso)
      .where('ad_renditions.status', '=', 'ready')
      .orderBy('ad_breaks.id', 'desc')
      .executeTakeFirst();
    if (requested?.mp3_key) return this.order(requested.id, requested.marker_id, requested.duration_seconds, requested.mp3_key);
    // A scheduled marker (`starts_at`) whose time has come: offered for a minute, its own id as the break's.
    const scheduled = await this.deps.db
      .selectFrom('ad_markers')
      .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
      .select(['ad_markers.id', 'ad_markers.duration_seconds', 'ad_renditions.mp3_key'])
      .where('ad_markers.stream_id', '=', streamId)
      .where('ad_markers.starts_at', '<=', iso)
      .where('ad_markers.starts_at', '>', new Date(now.getTime() - SCHEDULED_WINDOW_SECONDS * 1000).toISOString())
      .where('ad_renditions.status', '=', 'ready')
      .orderBy('ad_markers.starts_at', 'desc')
      .executeTakeFirst();
    if (scheduled?.mp3_key) return this.order(scheduled.id, scheduled.id, scheduled.duration_seconds, scheduled.mp3_key);
    return null;
  }

  private async order(id: string, markerId: string, duration: number, key: string): Promise<AdBreakOrder> {
    const presigned = await this.deps.store.presignedGetUrl(key, AUDIO_URL_SECONDS);
    let url = presigned;
    if (!url) {
      const s = this.deps.signer.sign(id, null, { ttlSeconds: AUDIO_URL_SECONDS });
      // Relative: the relay resolves it against the API URL it reports to.
      url = `/v1/ad-breaks/${id}/audio?exp=${s.exp}&sig=${s.sig}`;
    }
    return { id, ad_id: markerId, url, duration_seconds: duration };
  }

  /** GET /v1/ad-breaks/{id}/audio: the ad's normalized MP3, for a correctly signed, unexpired URL only. */
  async audio(id: string, given: { exp?: string | undefined; sig?: string | undefined }): Promise<MediaAnswer> {
    const check = this.deps.signer.check(id, given);
    if (check !== 'valid')
      throw new DomainError('forbidden', check === 'expired' ? 'This ad URL has expired.' : 'This ad URL is not signed.');
    const markerId = id.startsWith('brk_')
      ? (await this.deps.db.selectFrom('ad_breaks').select('marker_id').where('id', '=', id).executeTakeFirst())?.marker_id
      : id;
    const row = markerId
      ? await this.deps.db
          .selectFrom('ad_markers')
          .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
          .select('ad_renditions.mp3_key')
          .where('ad_markers.id', '=', markerId)
          .executeTakeFirst()
      : undefined;
    const answer = row?.mp3_key ? await serveBlob(this.deps.store, row.mp3_key, 'private, no-store') : null;
    if (!answer) throw new NotFound('Ad break', id);
    return answer;
  }
}
