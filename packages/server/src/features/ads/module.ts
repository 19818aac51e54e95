import type { FeatureModule } from '../../modules.js';
import { normalizeAdJob } from './jobs.js';
import { registerAdRoutes } from './routes.js';
import { AdsService, type AdsDeps } from './service.js';

export type { AdFreePort } from './service.js';

/**
 * Ads: markers on playlists and streams, the job that normalizes each ad
 * source once, and impressions. Playlist playback splices the ads in through
 * the port this module plugs into the playlists service; `adFree` is the
 * money feature's answer to "does this listener's plan have ad-free"
 * (default: nobody).
 */
export function adsModule(deps: AdsDeps): FeatureModule & { service: AdsService } {
  const service = new AdsService(deps);
  deps.playlists.useAds(service);
  return {
    name: 'ads',
    service,
    jobs: [normalizeAdJob(service)],
    routes: (app) => registerAdRoutes(app, service),
  };
}
