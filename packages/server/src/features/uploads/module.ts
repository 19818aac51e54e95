import type { FeatureModule } from '../../modules.js';
import { processUploadJob } from './jobs.js';
import { registerUploadPlaybackRoutes } from './playback-routes.js';
import { registerUploadRoutes } from './routes.js';
import { UploadsService, type UploadsDeps } from './service.js';
import type { PlaybackAuthorizer } from '../../http/playback.js';

export interface UploadsModuleDeps extends Omit<UploadsDeps, 'signPlayback'> {
  playback: PlaybackAuthorizer;
  /** Largest upload body, enforced while it streams in. */
  maxBytes: number;
}

/** Audio uploads: the API, the scan-and-transcode job, and the upload's own HLS playback. */
export function uploadsModule(deps: UploadsModuleDeps): FeatureModule & { service: UploadsService } {
  const { playback, maxBytes, ...serviceDeps } = deps;
  const service = new UploadsService({
    ...serviceDeps,
    signPlayback: (id, userId) => playback.sign(id, userId, UploadsService.playbackTokenSeconds).token,
  });
  return {
    name: 'uploads',
    service,
    jobs: [processUploadJob(service)],
    routes: (app) => {
      registerUploadRoutes(app, { uploads: service, maxBytes });
      registerUploadPlaybackRoutes(app, { uploads: service, authorizer: playback, store: deps.store });
    },
  };
}
