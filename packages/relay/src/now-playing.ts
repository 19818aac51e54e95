import type { FfmpegInputInfo } from './ffmpeg-log.js';

/**
 * What the relay knows about the source's programme, from three places of
 * decreasing authority: the stats page, the ICY headers and metadata of the
 * relay's own connection, and what FFmpeg says about the input. Immutable
 * values and pure functions; the worker keeps the current one.
 */
export interface NowPlaying {
  statsTitle: string | null;
  statsBitrateKbps: number | null;
  statsContentType: string | null;
  /** A title from in-band ICY metadata was seen on the current connection. */
  icyTitleSeen: boolean;
  icyTitle: string | null;
  icyContentType: string | null;
  icyBitrateKbps: number | null;
  inputBitrateKbps: number | null;
  inputContentType: string | null;
}

export const emptyNowPlaying: NowPlaying = {
  statsTitle: null,
  statsBitrateKbps: null,
  statsContentType: null,
  icyTitleSeen: false,
  icyTitle: null,
  icyContentType: null,
  icyBitrateKbps: null,
  inputBitrateKbps: null,
  inputContentType: null,
};

export const withStats = (
  np: NowPlaying,
  stats: { currentTrack: string | null; bitrateKbps: number | null; contentType: string | null } | null,
): NowPlaying => ({
  ...np,
  statsTitle: stats?.currentTrack ?? null,
  statsBitrateKbps: stats?.bitrateKbps ?? null,
  statsContentType: stats?.contentType ?? null,
});

export const withIcyHeaders = (np: NowPlaying, info: { contentType: string | null; bitrateKbps: number | null }): NowPlaying => ({
  ...np,
  icyContentType: info.contentType,
  icyBitrateKbps: info.bitrateKbps,
});

export const withIcyTitle = (np: NowPlaying, title: string | null): NowPlaying => ({
  ...np,
  icyTitleSeen: true,
  icyTitle: title,
});

/** The connection that carried the ICY title is gone: until the next one says otherwise, the stats page decides. */
export const withoutIcy = (np: NowPlaying): NowPlaying => ({ ...np, icyTitleSeen: false, icyTitle: null });

export const withInput = (np: NowPlaying, info: FfmpegInputInfo): NowPlaying => ({
  ...np,
  inputBitrateKbps: info.bitrateKbps,
  inputContentType: info.contentType,
});

export const currentTrack = (np: NowPlaying): string | null => (np.icyTitleSeen ? np.icyTitle : np.statsTitle);
export const bitrateKbps = (np: NowPlaying): number | null => np.statsBitrateKbps ?? np.icyBitrateKbps ?? np.inputBitrateKbps;
export const contentType = (np: NowPlaying): string | null => np.statsContentType ?? np.icyContentType ?? np.inputContentType;
