import { z } from 'zod';
import { TranscodeError } from '../../adapters/transcoder/types.js';
import { defineJob, jobType, type JobDefinition } from '../../jobs/definition.js';
import { NotMp3Error } from '../../media/mp3.js';
import { ExternalUrlError } from './external-url.js';
import type { PlaylistsService } from './service.js';

const ExternalTrackJobPayload = z.object({ track_id: z.string().regex(/^trk_[0-9a-z]{1,60}$/) });
export type ExternalTrackJobPayload = z.infer<typeof ExternalTrackJobPayload>;

/** Fetches an external track of a playlist, maps its MP3 frames and publishes its HLS rendition. */
export const FETCH_EXTERNAL_TRACK = jobType({
  kind: 'playlist.external_track',
  payload: ExternalTrackJobPayload,
  maxAttempts: 3,
});

/** The file is not usable MP3, the URL is refused, or FFmpeg cannot encode it: retrying will not help. */
export function isPermanentExternalTrackFailure(error: unknown): boolean {
  if (error instanceof NotMp3Error || error instanceof ExternalUrlError) return true;
  return error instanceof TranscodeError && ['failed', 'bad_input', 'bad_output', 'not_installed'].includes(error.code);
}

export function externalTrackFailureReason(error: unknown): string {
  if (error instanceof NotMp3Error) return `Not a usable MP3: ${error.reason}`;
  return error instanceof Error ? error.message : String(error);
}

export function fetchExternalTrackJob(playlists: PlaylistsService): JobDefinition<ExternalTrackJobPayload> {
  return defineJob(FETCH_EXTERNAL_TRACK, {
    run: (payload, ctx) => playlists.processExternalTrack(payload, ctx),
    isPermanent: isPermanentExternalTrackFailure,
    onFinalFailure: (payload, error, ctx) =>
      playlists.markExternalTrackFailed(payload.track_id, externalTrackFailureReason(error), error, ctx.logger),
  });
}
