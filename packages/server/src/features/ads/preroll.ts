// Live pre-roll (story 5003.2): a listener who opens a stream's live.m3u8
// while the stream has a ready pre-roll gets a playlist of their own, the
// ad first and then the live window (preroll-playlist.ts builds it). The
// session is a row in the database, so every replica serves the listener
// the same numbering; it records the ad's impression (started with the
// first playlist, completed when a reload comes after the ad's end or the
// ad's last segment is fetched).

import type { Kysely } from 'kysely';
import type { BlobStore } from '@djcast/relay/blob';
import { NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Database, StreamsTable } from '../../db/tables.js';
import { isOpen, playbackCaching } from '../../http/playback-policy.js';
import type { Logger } from '../../logger.js';
import type { HlsSegmentRef } from '../../media/hls-manifest.js';
import type { MediaAnswer } from '../uploads/blob-response.js';
import { serveBlob } from '../uploads/blob-response.js';
import type { LiveAdsPort, LiveListener } from '../streams/live-ads-port.js';
import type { AdFreePort } from './service.js';
import { buildPrerollPlaylist } from './preroll-playlist.js';
import * as repo from './repository.js';
import * as sessions from './preroll-repository.js';
import { sessionKeyFor } from '../relays/service.js';

/** A session whose listener has not reloaded for this long is over: coming back starts a new one (with the ad again). */
export const LIVE_SESSION_IDLE_MS = 5 * 60_000;
/** How long a stream's ready pre-roll (or its absence) is remembered: a new marker plays within this. */
const PREROLL_CACHE_MS = 5_000;
/** Streams whose pre-roll is remembered at once (least recently asked go first). */
const PREROLL_CACHE_SIZE = 10_000;
/** `last_seen_at` is written at most this often per session (it only needs to outlast the idle limit). */
const TOUCH_EVERY_MS = 30_000;

export interface LivePrerollDeps {
  db: Kysely<Database>;
  store: BlobStore;
  logger: Logger;
  clock: () => Date;
  adFree: AdFreePort;
}

export class LivePrerolls implements LiveAdsPort {
  private readonly ready = new Map<string, { at: number; preroll: sessions.ReadyPreroll | null }>();

  constructor(private readonly deps: LivePrerollDeps) {}

  async personalize(
    stream: StreamsTable,
    listener: LiveListener,
    playlist: string,
  ): Promise<{ playlist: string | null; perListener: boolean }> {
    const now = this.deps.clock().getTime();
    let preroll: sessions.ReadyPreroll | null = null;
    try {
      // No ready pre-roll, no session that matters (deleting a marker deletes its sessions): no query at all.
      preroll = await this.readyPreroll(stream.id, now);
      if (!preroll) return { playlist: null, perListener: false };
      return { playlist: await this.build(stream, listener, playlist, preroll, now), perListener: true };
    } catch (error) {
      // The live stream plays on: the listener gets the relay's playlist.
      this.deps.logger.warn(
        { event: 'ads.preroll_failed', stream_id: stream.id, err: error },
        'could not build a pre-roll playlist; serving the live playlist as is',
      );
      return { playlist: null, perListener: preroll !== null };
    }
  }

  private async build(
    stream: StreamsTable,
    who: LiveListener,
    playlist: string,
    preroll: sessions.ReadyPreroll,
    now: number,
  ): Promise<string | null> {
    const { db } = this.deps;
    const listener = { ...who, sessionKey: prerollSessionKey(who) };
    let found = await sessions.findLiveSession(db, stream.id, listener.sessionKey);
    if (found && Date.parse(found.last_seen_at) < now - LIVE_SESSION_IDLE_MS) found = undefined;
    const session = found ?? (await this.start(stream, listener, preroll, now));
    if (!session) return null;
    const segments = (JSON.parse(session.hls_segments ?? '[]') as HlsSegmentRef[]).map((s) => ({
      uri: adSegmentUri(session.marker_id, s.uri, listener.segmentToken),
      duration: s.duration,
    }));
    const elapsedSeconds = Math.max(0, (now - Date.parse(session.started_at)) / 1000);
    const stored =
      session.live_msn !== null && session.live_dsn !== null ? { msn: session.live_msn, dsn: session.live_dsn } : null;
    let built = buildPrerollPlaylist({ live: playlist, ad: segments, elapsedSeconds, join: stored });
    if (!stored && built.join) {
      await sessions.setLiveJoin(db, stream.id, listener.sessionKey, built.join);
      // Two reloads racing (two replicas): the first join point stored is the listener's.
      const again = await sessions.findLiveSession(db, stream.id, listener.sessionKey);
      if (again?.live_msn != null && again.live_dsn != null && again.live_msn !== built.join.msn)
        built = buildPrerollPlaylist({
          live: playlist,
          ad: segments,
          elapsedSeconds,
          join: { msn: again.live_msn, dsn: again.live_dsn },
        });
    }
    const patch: { last_seen_at?: string; completed_at?: string } = {};
    if (now - Date.parse(session.last_seen_at) >= TOUCH_EVERY_MS) patch.last_seen_at = iso(now);
    if (built.pastAd && !session.completed_at) {
      patch.completed_at = iso(now);
      await repo.completeImpression(db, session.marker_id, session.session_id, iso(now));
    }
    if (Object.keys(patch).length > 0) await sessions.updateLiveSession(db, stream.id, listener.sessionKey, patch);
    return built.text;
  }

  async hearsAds(stream: StreamsTable, userId: string): Promise<boolean> {
    try {
      return !(await this.deps.adFree(userId, stream.owner_id));
    } catch (error) {
      this.deps.logger.warn(
        { event: 'ads.ad_free_check_failed', stream_id: stream.id, err: error },
        'could not tell whether a listener is ad-free; serving the live playlist with its ads',
      );
      return true;
    }
  }

  /** A new session, when the stream has a ready pre-roll and this listener hears ads and is just arriving. */
  private async start(
    stream: StreamsTable,
    listener: LiveListener & { sessionKey: string },
    preroll: sessions.ReadyPreroll,
    now: number,
  ) {
    const { db } = this.deps;
    if (await this.deps.adFree(listener.userId, stream.owner_id)) return undefined;
    // Already listening (the pre-roll was added mid-set, or the session row was pruned): no ad mid-listen.
    if (await listener.seenBefore()) return undefined;
    await sessions.pruneLiveSessions(db, stream.id, iso(now - LIVE_SESSION_IDLE_MS));
    const sessionId = newId('als');
    await sessions.insertLiveSession(db, {
      stream_id: stream.id,
      session_key: listener.sessionKey,
      session_id: sessionId,
      marker_id: preroll.marker_id,
      started_at: iso(now),
      last_seen_at: iso(now),
      live_msn: null,
      live_dsn: null,
      completed_at: null,
    });
    const session = await sessions.findLiveSession(db, stream.id, listener.sessionKey);
    if (session?.session_id === sessionId) {
      // This playlist includes the ad: the impression starts.
      await repo.insertImpression(db, {
        id: newId('adi'),
        marker_id: preroll.marker_id,
        owner_id: stream.owner_id,
        resource_id: stream.id,
        session_id: sessionId,
        listener_id: listener.userId,
        started_at: iso(now),
        completed_at: null,
      });
    }
    return session;
  }

  private async readyPreroll(streamId: string, now: number): Promise<sessions.ReadyPreroll | null> {
    const cached = this.ready.get(streamId);
    if (cached && now - cached.at < PREROLL_CACHE_MS && now >= cached.at) return cached.preroll;
    const preroll = (await sessions.readyStreamPreroll(this.deps.db, streamId)) ?? null;
    this.ready.delete(streamId);
    this.ready.set(streamId, { at: now, preroll });
    while (this.ready.size > PREROLL_CACHE_SIZE) this.ready.delete(this.ready.keys().next().value as string);
    return preroll;
  }

  /**
   * One segment of a stream's pre-roll (GET /streams/{id}/ads/{marker}/{segment}), after the
   * route authorized the listener. The ad's last segment completes the listener's impression.
   */
  async segment(stream: StreamsTable, markerId: string, file: string, sessionKey: string, head: boolean): Promise<MediaAnswer> {
    const { db } = this.deps;
    const marker = await repo.findMarker(db, markerId);
    if (!marker || marker.stream_id !== stream.id || marker.kind !== 'pre-roll' || marker.status !== 'ready')
      throw new NotFound('Segment', `${markerId}/${file}`);
    const rendition = await repo.findRendition(db, marker.rendition_id);
    const segments = JSON.parse(rendition?.hls_segments ?? '[]') as HlsSegmentRef[];
    if (!rendition?.hls_prefix || !segments.some((s) => s.uri === file)) throw new NotFound('Segment', `${markerId}/${file}`);
    const cacheControl = playbackCaching.segment({
      open: isOpen({ visibility: stream.visibility, monetized: stream.monetization_enabled === 1 }),
    });
    const answer = await serveBlob(this.deps.store, `${rendition.hls_prefix}${file}`, cacheControl, head);
    if (!answer) throw new NotFound('Segment', `${markerId}/${file}`);
    if (!head && segments.at(-1)?.uri === file) await this.lastSegmentFetched(stream, markerId, sessionKey);
    return answer;
  }

  private async lastSegmentFetched(stream: StreamsTable, markerId: string, sessionKey: string): Promise<void> {
    const { db } = this.deps;
    const session = await sessions.findLiveSession(db, stream.id, sessionKey);
    if (!session || session.marker_id !== markerId || session.completed_at) return;
    const now = iso(this.deps.clock().getTime());
    await repo.completeImpression(db, markerId, session.session_id, now);
    await sessions.updateLiveSession(db, stream.id, sessionKey, { completed_at: now });
  }
}

/**
 * Who a pre-roll session belongs to: the presented playback token, else the
 * signed-in listener, else address + user agent (sessionKeyFor's hashing).
 */
export function prerollSessionKey(who: {
  token: string | null;
  userId: string | null;
  address: string;
  userAgent: string;
}): string {
  return sessionKeyFor(who);
}

/** Relative to /streams/{id}/live.m3u8, with the listener's playback token carried along. */
export function adSegmentUri(markerId: string, file: string, token: string | null): string {
  return `ads/${markerId}/${encodeURIComponent(file)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

const iso = (ms: number) => new Date(ms).toISOString();
