// Pure helpers of `djcast ads`: reading a programme position and building the marker request.
import type { CreateAdBreakRequest, CreatePlaylistAdMarkerRequest, CreateStreamAdMarkerRequest } from '@djcast/sdk';
import { UsageError } from './errors.js';

/** "15:00" (mm:ss), "1:02:03" (h:mm:ss) or plain seconds ("900") as whole seconds. */
export function parsePosition(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const m = /^(?:(\d+):)?(\d{1,3}):(\d{2})$/.exec(trimmed);
  if (!m || Number(m[3]) > 59 || (m[1] !== undefined && Number(m[2]) > 59))
    throw new UsageError(`"${text}" is not a position.`, 'Give mm:ss (15:00), h:mm:ss (1:02:03) or seconds (900).');
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** The ad's source: an upload id (upl_…) or an http(s) URL. */
export function adSource(text: string): { upload_id: string } | { url: string } {
  if (/^upl_[0-9a-z]{26}$/.test(text)) return { upload_id: text };
  if (/^https?:\/\//.test(text)) return { url: text };
  throw new UsageError(
    `"${text}" is neither an upload id (upl_…) nor an http(s) URL.`,
    'Upload the ad with `djcast upload` first.',
  );
}

export function playlistMarkerRequest(opts: {
  at: string | undefined;
  duration: number;
  source: string;
  kind: 'pre-roll' | 'mid-roll';
}): CreatePlaylistAdMarkerRequest {
  if (opts.kind === 'mid-roll' && opts.at === undefined)
    throw new UsageError('A mid-roll needs --at.', 'Say where it goes: --at 15:00.');
  return {
    position_seconds: opts.kind === 'pre-roll' ? 0 : parsePosition(opts.at!),
    duration_seconds: opts.duration,
    source: adSource(opts.source),
    kind: opts.kind,
  };
}

/**
 * A scheduled break's time: ISO 8601 with a date, a time and an offset ("2026-03-06T21:30:00Z",
 * "2026-03-06T22:30:00+01:00"), as the API takes it; answered as given.
 */
export function parseStartsAt(text: string): string {
  const trimmed = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
  if (!iso.test(trimmed) || Number.isNaN(Date.parse(trimmed)))
    throw new UsageError(
      `"${text}" is not an ISO 8601 time with an offset.`,
      'Give e.g. --starts-at 2026-03-06T21:30:00Z or 2026-03-06T22:30:00+01:00.',
    );
  return trimmed;
}

export function streamMarkerRequest(opts: {
  startsAt: string | undefined;
  duration: number;
  source: string;
  kind: 'pre-roll' | 'mid-roll';
}): CreateStreamAdMarkerRequest {
  if (opts.startsAt !== undefined && opts.kind === 'pre-roll')
    throw new UsageError('A pre-roll has no --starts-at.', 'It plays to each new listener; leave --starts-at out.');
  return {
    ...(opts.startsAt !== undefined ? { starts_at: parseStartsAt(opts.startsAt) } : {}),
    duration_seconds: opts.duration,
    source: adSource(opts.source),
    kind: opts.kind,
  };
}

/** A live break's request: `--source` may also name one of the stream's ad markers (adm_…); left out, the latest on-demand marker plays. */
export function adBreakRequest(opts: { duration: number; source: string | undefined }): CreateAdBreakRequest {
  if (opts.source === undefined) return { duration_seconds: opts.duration };
  if (/^adm_[0-9a-z]{26}$/.test(opts.source)) return { duration_seconds: opts.duration, source: { marker_id: opts.source } };
  return { duration_seconds: opts.duration, source: adSource(opts.source) };
}
