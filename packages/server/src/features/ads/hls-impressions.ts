// Ad impressions of HLS playlist sessions (stream.m3u8 with mid-rolls). The
// manifest is VOD and lists every ad up front, for everyone, so loading it
// says nothing about hearing an ad: a listener's impression starts when it
// fetches one of the ad's segments and completes when it fetches the last.
// A listener (relays/service.ts sessionKeyFor) who comes back to the same
// ad within REPEAT_MS continues the same impression rather than adding one.

import type { Kysely } from 'kysely';
import { newId } from '../../core/ids.js';
import type { Database } from '../../db/tables.js';
import * as repo from './repository.js';

/** Fetches of one ad by one listener within this long of the impression's start are the same impression. */
export const REPEAT_MS = 30 * 60_000;

export interface HlsAdSegmentFetch {
  markerId: string;
  playlistId: string;
  ownerId: string;
  /** relays/service.ts sessionKeyFor of the request. */
  listenerKey: string;
  listenerId: string | null;
  /** Whether the segment is the ad's last. */
  last: boolean;
}

/** The impression's session id: the listener and the REPEAT_MS window its first fetch fell in. */
export const hlsSessionId = (listenerKey: string, bucket: number) => `hls:${listenerKey}:${bucket}`;

export async function recordHlsAdSegment(db: Kysely<Database>, e: HlsAdSegmentFetch, now: Date): Promise<void> {
  const at = now.getTime();
  const bucket = Math.floor(at / REPEAT_MS);
  const current = hlsSessionId(e.listenerKey, bucket);
  const previous = hlsSessionId(e.listenerKey, bucket - 1);
  const rows = await db
    .selectFrom('ad_impressions')
    .selectAll()
    .where('marker_id', '=', e.markerId)
    .where('session_id', 'in', [current, previous])
    .execute();
  const open =
    rows.find((r) => r.session_id === current) ??
    rows.find((r) => r.session_id === previous && at - Date.parse(r.started_at) < REPEAT_MS);
  let sessionId = open?.session_id;
  if (!sessionId) {
    sessionId = current;
    await repo.insertImpression(db, {
      id: newId('adi'),
      marker_id: e.markerId,
      owner_id: e.ownerId,
      resource_id: e.playlistId,
      session_id: sessionId,
      listener_id: e.listenerId,
      started_at: now.toISOString(),
      completed_at: null,
    });
  }
  if (e.last && !open?.completed_at) await repo.completeImpression(db, e.markerId, sessionId, now.toISOString());
}
