import type { FeatureModule } from '../../modules.js';
import { registerPagesRoutes } from './routes.js';
import { registerSubscribeRoutes } from './subscribe-routes.js';
import { PagesService, type PagesDeps } from './service.js';

/** Listener pages: the public stream and playlist pages, their embeds, oEmbed, now-playing and the player script. */
export function pagesModule(deps: PagesDeps): FeatureModule & { service: PagesService } {
  const service = new PagesService(deps);
  return {
    name: 'pages',
    service,
    routes: (app) => {
      registerPagesRoutes(app, service, deps.publicUrl, deps.web);
      if (deps.web) registerSubscribeRoutes(app, deps.web);
    },
  };
}
