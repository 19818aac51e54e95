import type { FeatureModule } from '../../modules.js';
import { registerArtworkRoutes } from './routes.js';
import { ArtworksService, type ArtworksDeps } from './service.js';

/** Artwork of stream and playlist pages: the upload, and the public image route. */
export function artworksModule(deps: ArtworksDeps): FeatureModule & { service: ArtworksService } {
  const service = new ArtworksService(deps);
  return { name: 'artworks', service, routes: (app) => registerArtworkRoutes(app, service) };
}
