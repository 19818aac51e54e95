import type { FeatureModule } from '../../modules.js';
import type { PlaybackAuthorizer } from '../../http/playback.js';
import type { ListenerSessionSink } from '../analytics/sessions.js';
import { fetchExternalTrackJob } from './jobs.js';
import { registerPlaylistPlaybackRoutes } from './playback-routes.js';
import { PlaylistPlaybackService } from './playback-service.js';
import { registerPlaylistRoutes } from './routes.js';
import { PlaylistsService, type PlaylistsDeps } from './service.js';

export interface PlaylistsModuleDeps extends PlaylistsDeps {
  playback: PlaybackAuthorizer;
  /** max-age of public playback responses. */
  cacheSeconds: number;
  /** A stream.mp3 listener whose connection takes nothing for this long is disconnected. */
  listenerIdleMs: number;
  /** DJCAST_STREAM_PACE (0 = off). */
  streamPaceFactor: number;
  /** Where HLS and stream.mp3 listener sessions are recorded for analytics. */
  sessions?: ListenerSessionSink;
}

/** Playlists: the API, the external-track job, and public playback (stream.m3u8, stream.mp3). */
export function playlistsModule(deps: PlaylistsModuleDeps): FeatureModule & { service: PlaylistsService } {
  const { playback, cacheSeconds, listenerIdleMs, streamPaceFactor, sessions, ...serviceDeps } = deps;
  const service = new PlaylistsService(serviceDeps);
  // An upload in a playlist cannot be deleted: playlists tell uploads, so uploads need not know playlists.
  deps.uploads.guardDelete((uploadId) => service.playlistsUsingUpload(uploadId));
  return {
    name: 'playlists',
    service,
    jobs: [fetchExternalTrackJob(service)],
    routes: (app) => {
      registerPlaylistRoutes(app, service);
      registerPlaylistPlaybackRoutes(app, {
        playback: new PlaylistPlaybackService({
          playlists: service,
          db: deps.db,
          authorizer: playback,
          store: deps.store,
          logger: deps.logger,
          allowPrivateUrls: deps.allowPrivateUrls,
          cacheSeconds,
          paceFactor: streamPaceFactor,
        }),
        listenerIdleMs,
        ...(sessions ? { sessions } : {}),
      });
    },
  };
}
