import type { BlobStore } from '@djcast/relay/blob';
import type { PlaybackAuthorizer } from '../../http/playback.js';
import type { FeatureModule } from '../../modules.js';
import type { ListenerSessionSink } from '../analytics/sessions.js';
import { LivePlayback } from './live-playback.js';
import { registerLivePlaybackRoutes } from './playback-routes.js';
import { registerStreamRoutes } from './routes.js';
import { StreamsService, type StreamsDeps } from './service.js';

export interface StreamsModuleDeps extends Omit<StreamsDeps, 'signPlayback'> {
  playback: PlaybackAuthorizer;
  /** Where relay workers publish the live HLS window. */
  store: BlobStore;
  /** Where live HLS listener sessions are recorded for analytics. */
  sessions?: ListenerSessionSink;
}

/** Streams: the API for registered sources, playback tokens, and live HLS playback of a relayed stream. */
export function streamsModule(deps: StreamsModuleDeps): FeatureModule & { service: StreamsService; live: LivePlayback } {
  const { playback, store, sessions, ...serviceDeps } = deps;
  const service = new StreamsService({
    ...serviceDeps,
    signPlayback: (resourceId, userId, ttl) => playback.sign(resourceId, userId, ttl),
  });
  const live = new LivePlayback(store, deps.relays, sessions);
  return {
    name: 'streams',
    service,
    live,
    routes: (app) => {
      registerStreamRoutes(app, service);
      registerLivePlaybackRoutes(app, { streams: service, playback, live });
    },
  };
}
