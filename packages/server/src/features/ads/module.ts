import type { FeatureModule } from '../../modules.js';
import { normalizeAdJob } from './jobs.js';
import { registerLiveBreakRoutes } from './live-break-routes.js';
import { LiveBreaks, type LiveBreaksDeps } from './live-breaks.js';
import { registerAdRoutes } from './routes.js';
import { LivePrerolls } from './preroll.js';
import { registerPrerollRoutes } from './preroll-routes.js';
import { AdsService, type AdsDeps } from './service.js';

export type { AdFreePort } from './service.js';

/**
 * Ads: markers on playlists and streams, the job that normalizes each ad
 * source once, and impressions. Playlist playback splices the ads in through
 * the port this module plugs into the playlists service; `adFree` is the
 * money feature's answer to "does this listener's plan have ad-free"
 * (default: nobody).
 */
export function adsModule(
  deps: AdsDeps & Pick<LiveBreaksDeps, 'relays' | 'signer'>,
): FeatureModule & { service: AdsService; liveBreaks: LiveBreaks; prerolls: LivePrerolls } {
  const service = new AdsService(deps);
  // Live breaks: started from the API or a marker's starts_at, played by the relay (its heartbeat receipt).
  const liveBreaks = new LiveBreaks({ ...deps, ads: service });
  deps.playlists.useAds(service);
  // Live pre-roll: each new listener's own playlist, the ad ahead of the live window.
  const prerolls = new LivePrerolls({
    db: deps.db,
    store: deps.store,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    adFree: (listenerId, ownerId) => service.adFree(listenerId, ownerId),
  });
  deps.live?.useAds(prerolls);
  return {
    name: 'ads',
    service,
    liveBreaks,
    prerolls,
    jobs: [normalizeAdJob(service)],
    routes: (app) => {
      registerAdRoutes(app, service);
      registerLiveBreakRoutes(app, liveBreaks);
      if (deps.playback) registerPrerollRoutes(app, { streams: deps.streams, playback: deps.playback, prerolls });
    },
  };
}
