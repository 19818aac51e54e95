import type { FeatureModule } from '../../modules.js';
import { publishEpisodeJob } from './jobs.js';
import { EpisodeMediaService } from './media-service.js';
import { registerPodcastPublicRoutes } from './public-routes.js';
import { registerPodcastRoutes } from './routes.js';
import { PodcastsService, type PodcastsDeps } from './service.js';

export type PodcastsModuleDeps = PodcastsDeps;

/** Podcasts: series, episodes, the RSS feeds, signed enclosures and the counting media redirect. */
export function podcastsModule(deps: PodcastsModuleDeps): FeatureModule & { service: PodcastsService } {
  const service = new PodcastsService(deps);
  // An upload an episode uses cannot be deleted: podcasts tell uploads, so uploads need not know podcasts.
  deps.uploads.guardDelete((uploadId) => service.episodesUsingUpload(uploadId));
  const media = new EpisodeMediaService({
    db: deps.db,
    store: deps.store,
    uploads: deps.uploads,
    signer: deps.signer,
    clock: deps.clock ?? (() => new Date()),
    paywall: deps.paywall,
  });
  return {
    name: 'podcasts',
    service,
    jobs: [publishEpisodeJob(service)],
    routes: (app) => {
      registerPodcastRoutes(app, service);
      registerPodcastPublicRoutes(app, { podcasts: service, media });
    },
  };
}
