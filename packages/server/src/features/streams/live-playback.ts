import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { liveStreamKeys } from '@djcast/relay';
import type { BlobStore } from '@djcast/relay/blob';
import type { StreamsTable } from '../../db/tables.js';
import { isOpen, playbackCaching, type Audience } from '../../http/playback-policy.js';
import { DomainError, NotFound } from '../../core/errors.js';
import type { ListenerSessionSink } from '../analytics/sessions.js';
import { sessionKeyFor, type RelaysService } from '../relays/service.js';
import type { LiveAdsPort } from './live-ads-port.js';
import {
  isSegmentName,
  listsAdBreak,
  playlistMaxAge,
  rewritePlaylistUris,
  segmentContentType,
  segmentNameOf,
} from './live-playlist.js';

export interface Listener {
  /** The playback token the player presented, if any (carried into segment URIs). */
  token: string | null;
  userId: string | null;
  address: string;
  userAgent: string;
  /** Whether `token` is the one the player presented (`?token=`), not one granted to its bearer credential. */
  tokenPresented?: boolean;
}

export interface ServedPlaylist {
  body: string;
  etag: string;
  cacheControl: string;
  /**
   * The shared answer also depends on the Authorization header: during a live break an ad-free
   * listener who sends a bearer token gets another playlist, so a shared cache must not hand
   * them this one.
   */
  varyOnAuthorization: boolean;
}

export type ServedSegment =
  | { kind: 'bytes'; body: Readable; size: number; contentType: string; cacheControl: string }
  | { kind: 'redirect'; url: string; cacheControl: string };

/** How long a presigned segment URL stays valid: comfortably longer than a player holds a playlist. */
const PRESIGN_SECONDS = 10 * 60;

/**
 * Serves a stream's live HLS: the playlist the relay wrote, with segment URIs
 * pointing where the bytes are, and the segments themselves. Authorization
 * happens before (PlaybackAuthorizer); this only serves and counts.
 */
export class LivePlayback {
  private ads: LiveAdsPort | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly relays: RelaysService,
    /** Listener sessions for analytics (recorded in memory, written in batches). */
    private readonly sessions?: ListenerSessionSink,
  ) {}

  /** Plugs in the ads feature (per-listener pre-roll playlists). */
  useAds(port: LiveAdsPort): void {
    this.ads = port;
  }

  async playlist(stream: StreamsTable, listener: Listener): Promise<ServedPlaylist> {
    const keys = liveStreamKeys(stream.id);
    const found = await this.blobs.get(keys.playlist);
    if (!found) throw notLive(stream.id);
    const relayed = await readText(found.body);
    // During a live break a listener whose plan has "ad-free" gets the relay's ad-free variant:
    // who asks decides what is served, so that answer is theirs alone.
    const adFree = await this.adFreeVariant(stream, listener, relayed);
    const original = adFree ?? relayed;
    const query = listener.token ? `?token=${encodeURIComponent(listener.token)}` : '';
    const body = await rewritePlaylistUris(original, async (uri) => {
      const name = segmentNameOf(uri);
      if (!isSegmentName(name)) return uri;
      if (this.blobs.kind === 's3') {
        const url = await this.blobs.presignedGetUrl(`${keys.prefix}${name}`, PRESIGN_SECONDS);
        if (url) return url;
      }
      return `live/${name}${query}`;
    });
    const sessionKey = sessionKeyFor(listener);
    // Before this fetch is recorded: a listener already listening gets no pre-roll mid-listen.
    const ads = this.ads
      ? await this.ads.personalize(
          stream,
          {
            token: listener.tokenPresented ? listener.token : null,
            segmentToken: listener.token,
            userId: listener.userId,
            address: listener.address,
            userAgent: listener.userAgent,
            seenBefore: () => this.relays.playbackSessionSeen(stream.id, sessionKey),
          },
          body,
        )
      : { playlist: null, perListener: false };
    await this.relays.recordPlaybackSession(stream.id, sessionKey);
    this.sessions?.hls('stream', stream.id, sessionKey, this.relays.segmentSeconds);
    const maxAge = playlistMaxAge(this.relays.segmentSeconds);
    const served = ads.playlist ?? body;
    return {
      body: served,
      etag: `"${createHash('sha256').update(served).digest('base64url').slice(0, 27)}"`,
      // Who gets the pre-roll depends on who asks: no cache may hand one listener's answer to another.
      cacheControl:
        ads.perListener || adFree !== null
          ? playbackCaching.personal()
          : playbackCaching.livePlaylist(audienceOf(stream), maxAge),
      varyOnAuthorization: adFree === null && this.ads !== undefined && listsAdBreak(relayed),
    };
  }

  /** live-adfree.m3u8 for a signed-in ad-free listener while the relay's playlist shows a break; otherwise null. */
  private async adFreeVariant(stream: StreamsTable, listener: Listener, relayed: string): Promise<string | null> {
    if (!this.ads || !listener.userId || !listsAdBreak(relayed)) return null;
    if (await this.ads.hearsAds(stream, listener.userId)) return null;
    const found = await this.blobs.get(liveStreamKeys(stream.id).adFreePlaylist);
    // Gone already (the break just left the window): the relay's playlist is the same without its DATERANGE.
    return found ? readText(found.body) : null;
  }

  async segment(stream: StreamsTable, name: string): Promise<ServedSegment> {
    if (!isSegmentName(name)) throw new NotFound('Segment', name);
    const key = `${liveStreamKeys(stream.id).prefix}${name}`;
    // Segment URIs never change content: any cache may keep them for good (private streams: only the player's).
    const cacheControl = playbackCaching.segment(audienceOf(stream));
    if (this.blobs.kind === 's3') {
      if (!(await this.blobs.head(key))) throw new NotFound('Segment', name);
      const url = await this.blobs.presignedGetUrl(key, PRESIGN_SECONDS);
      if (url) return { kind: 'redirect', url, cacheControl: playbackCaching.presignedRedirect() };
    }
    const found = await this.blobs.get(key);
    if (!found) throw new NotFound('Segment', name);
    return { kind: 'bytes', body: found.body, size: found.head.size, contentType: segmentContentType(name), cacheControl };
  }
}

function audienceOf(stream: StreamsTable): Audience {
  return { open: isOpen({ visibility: stream.visibility, monetized: stream.monetization_enabled === 1 }) };
}

function notLive(streamId: string): DomainError {
  return new DomainError(
    'not_found',
    `Stream ${streamId} is not live yet: the relay has not published a playlist. Check GET /v1/streams/${streamId}/status.`,
    {
      resource: 'stream_playlist',
      id: streamId,
    },
  );
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
