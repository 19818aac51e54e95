// How the CLI shows a stream's live status (GET /v1/streams/{id}/status).
import type { StreamLiveStatus } from '@djcast/sdk';
import type { Field } from '../ui/format.js';

export type LiveStatus = StreamLiveStatus;

export const LIVE_STATUS_FIELDS: Field<LiveStatus>[] = [
  { header: 'stream', get: (s) => s.stream_id },
  { header: 'state', get: (s) => s.state },
  { header: 'current track', get: (s) => s.current_track },
  { header: 'bitrate', get: (s) => (s.bitrate_kbps === null ? null : `${s.bitrate_kbps} kbps`) },
  { header: 'listeners', get: (s) => `${s.listener_count} (${s.hls_listeners} HLS, ${s.source_listeners} direct)` },
  { header: 'cpu', get: (s) => (s.cpu_usage === null ? null : `${round(s.cpu_usage)}%`) },
  { header: 'segment lag', get: (s) => (s.segment_lag_seconds === null ? null : `${round(s.segment_lag_seconds)}s`) },
  { header: 'last heartbeat', get: (s) => s.last_heartbeat_at },
  { header: 'playback', get: (s) => s.playback_url },
];

/** One line per refresh for --watch: time, state, bitrate, listeners, track. */
export function liveStatusLine(s: LiveStatus, at: Date): string {
  const time = at.toISOString().slice(11, 19);
  const bitrate = s.bitrate_kbps === null ? '- kbps' : `${s.bitrate_kbps} kbps`;
  return [time, s.state.padEnd(12), bitrate.padEnd(9), `${s.listener_count} listeners`.padEnd(14), s.current_track ?? '-']
    .join('  ')
    .trimEnd();
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
