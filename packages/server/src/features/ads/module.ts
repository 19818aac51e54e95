import type { FeatureModule } from '../../modules.js';
import { normalizeAdJob } from './jobs.js';
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
export function adsModule(deps: AdsDeps): FeatureModule & { service: AdsService; prerolls: LivePrerolls } {
  const service = new AdsService(deps);
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
    prerolls,
    jobs: [normalizeAdJob(service)],
    routes: (app) => {
      registerAdRoutes(app, service);
      if (deps.playback) registerPrerollRoutes(app, { streams: deps.streams, playback: deps.playback, prerolls });
    },
  };
}
