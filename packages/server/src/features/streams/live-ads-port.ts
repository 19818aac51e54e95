// What live playback asks of the ads feature, as a port: the ads module plugs
// itself in (LivePlayback.useAds), so streams need not know ads.

import type { StreamsTable } from '../../db/tables.js';

export interface LiveListener {
  /**
   * The playback token the player presented in `?token=` (stable for the
   * player's session), or null; a token the API granted to a bearer request
   * is new on every reload, so it is not passed here.
   */
  token: string | null;
  /** The playback token segment URIs carry, if any (the presented one or one granted to a bearer). */
  segmentToken: string | null;
  /** The signed-in listener (from the token or bearer), if any. */
  userId: string | null;
  address: string;
  userAgent: string;
  /** Whether this listener fetched the stream's playlist recently (already listening: no pre-roll mid-listen). */
  seenBefore: () => Promise<boolean>;
}

export interface LiveAdsPort {
  /**
   * The listener's own playlist, built from the relay's (segment URIs
   * already rewritten): a pre-roll ahead of the live window; `playlist` null
   * when the listener gets the relay's playlist as it is. `perListener`: the
   * stream's playlist depends on who asks (it has a pre-roll), so no shared
   * cache may keep any answer, the relay's included. Never rejects.
   */
  personalize(
    stream: StreamsTable,
    listener: LiveListener,
    playlist: string,
  ): Promise<{ playlist: string | null; perListener: boolean }>;

  /**
   * Whether this signed-in listener hears the stream's ads (false: their plan
   * has "ad-free", so during a live break they get the relay's ad-free
   * playlist). Asked only while the relay's playlist shows a break. Never
   * rejects: when it cannot tell, the listener hears ads.
   */
  hearsAds(stream: StreamsTable, userId: string): Promise<boolean>;
}
