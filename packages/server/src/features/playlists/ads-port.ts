// What playlist playback asks of the ads feature, as a port: the ads module
// plugs itself in (PlaylistsService.useAds), so playlists need not know ads.

import type { SpliceBreak } from '../../media/ad-splice.js';
import type { TrackSource } from '../../media/track-sources.js';

export interface AdImpressionEvent {
  markerId: string;
  playlistId: string;
  ownerId: string;
  /** One listener session: one stream.mp3 response, or one HLS manifest load. */
  sessionId: string;
  listenerId: string | null;
  event: 'started' | 'completed';
}

/** A mid-roll: where, and the normalized ad (its MP3 file and HLS segments, served from `hlsPrefix`). */
export type PlaylistAdBreak = SpliceBreak<TrackSource> & { hlsPrefix: string };

export interface PlaylistAdsPort {
  /** The playlist's mid-rolls whose audio is ready, in any order. */
  breaks(playlistId: string): Promise<PlaylistAdBreak[]>;
  /** Whether this listener hears no ads from this DJ (an ad-free plan). */
  adFree(listenerId: string | null, ownerId: string): Promise<boolean>;
  /** Records a listener session reaching an ad's start or end; never rejects. */
  impression(event: AdImpressionEvent): Promise<void>;
  /** Records an HLS listener fetching one of an ad's segments (its impression starts, and the last completes it); never rejects. */
  hlsAdSegment?(event: AdHlsSegmentEvent): Promise<void>;
}

export interface AdHlsSegmentEvent {
  markerId: string;
  playlistId: string;
  ownerId: string;
  /** relays/service.ts sessionKeyFor of the request: token, else address + user agent. */
  listenerKey: string;
  listenerId: string | null;
  /** Whether it is the ad's last segment. */
  last: boolean;
}
