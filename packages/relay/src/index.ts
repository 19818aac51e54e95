/**
 * @djcast/relay: the live relay worker and the pure pieces the API server
 * shares with it. See README.md for the contract.
 */
export { nextBackoffDelay, type BackoffOptions } from './backoff.js';
export { loadRelayConfig, RelayConfigError, type RelayConfig } from './config.js';
export { buildHlsArgs, type HlsArgsOptions } from './ffmpeg-args.js';
export { heartbeatUrl, type HeartbeatBody, type RelayState } from './heartbeat.js';
export { encodeIcyMetadata, IcyDemuxer, IcyDemuxStream, parseIcyMetadata, type IcyMetadata } from './icy.js';
export {
  AD_FREE_PLAYLIST,
  liveStreamKeys,
  PLAYLIST_CONTENT_TYPE,
  playlistCacheControl,
  SEGMENT_CACHE_CONTROL,
  SEGMENT_CONTENT_TYPE,
} from './keys.js';
export {
  appendSegment,
  buildLivePlaylist,
  cleanSegmentUri,
  createLiveState,
  currentWindow,
  listsAdBreak,
  renderAdFreePlaylist,
  renderLivePlaylist,
  resumeLiveState,
  takeExpired,
  windowProblems,
  type CleanSegment,
  type LivePlaylistOptions,
  type LivePlaylistState,
  type LiveSegment,
  type LiveWindow,
} from './live-playlist.js';
export { probeSource, SourceProbeError, type ProbeOptions, type SourceProbeReason, type SourceProbeResult } from './probe.js';
export {
  fetchSourceText,
  requestSource,
  type LookupFunction,
  type SourceRequestOptions,
  type SourceResponse,
} from './source-http.js';
export { watchIcyTitles, type IcyWatchOptions } from './icy-reader.js';
export {
  parseIcecastStats,
  parseShoutcast1Stats,
  parseShoutcast2Stats,
  parseSourceStats,
  SOURCE_KINDS,
  StatsParseError,
  statsUrlFor,
  type SourceKind,
  type SourceStats,
} from './stats.js';
export {
  initialRelayState,
  nextWakeAt,
  relayTransition,
  type RelayEffect,
  type RelayEvent,
  type RelayMachineOptions,
  type RelayMachineState,
} from './relay-machine.js';
export { isRelayUserAgent, parseIcecastClientList, RELAY_USER_AGENT } from './relay-listeners.js';
export { TsSegmenter, type TsSegment } from './ts-segmenter.js';
export { createRelayWorker, type RelayStatus, type RelayWorker, type RelayWorkerDeps } from './worker.js';
