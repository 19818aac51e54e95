/**
 * Reading FFmpeg's stderr (at -loglevel info): the input description that
 * tells the relay the source is connected and what it carries.
 */

export interface FfmpegInputInfo {
  /** Demuxer name from "Input #0, mp3, from '...'" (mp3, aac, ogg...). */
  format: string | null;
  /** Codec from "Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 128 kb/s". */
  codec: string | null;
  sampleRate: number | null;
  bitrateKbps: number | null;
  contentType: string | null;
}

const CONTENT_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  mp2: 'audio/mpeg',
  aac: 'audio/aac',
  vorbis: 'audio/ogg',
  opus: 'audio/ogg',
  flac: 'audio/flac',
};

/** True for the line FFmpeg prints once it has opened and probed the input. */
export function isInputOpenedLine(line: string): boolean {
  return /^Input #0, /.test(line);
}

/**
 * Folds one stderr line into what is known about the input so far. Only the
 * input section counts: the output section repeats "Stream #0:0: Audio"
 * for the encoder, so parsing stops at "Output #0" / "Stream mapping".
 */
export function foldInputInfo(info: FfmpegInputInfo & { done?: boolean }, line: string): FfmpegInputInfo & { done?: boolean } {
  if (info.done) return info;
  const input = /^Input #0, ([^,]+), from /.exec(line);
  if (input) return { ...info, format: input[1]!.trim() };
  if (/^(Output #0|Stream mapping:)/.test(line)) return { ...info, done: true };
  if (info.format === null) return info;
  const audio = /^\s*Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([^,\s]+)[^,]*(?:, (\d+) Hz)?(.*)$/.exec(line);
  if (audio && info.codec === null) {
    const codec = audio[1]!.trim();
    const bitrate = /(\d+) kb\/s/.exec(audio[3] ?? '');
    return {
      ...info,
      codec,
      sampleRate: audio[2] ? Number(audio[2]) : null,
      bitrateKbps: bitrate ? Number(bitrate[1]) : info.bitrateKbps,
      contentType: CONTENT_TYPES[codec] ?? null,
    };
  }
  const overall = /^\s*Duration: .*, bitrate: (\d+) kb\/s/.exec(line);
  if (overall && info.bitrateKbps === null) return { ...info, bitrateKbps: Number(overall[1]) };
  return info;
}

export function emptyInputInfo(): FfmpegInputInfo & { done?: boolean } {
  return { format: null, codec: null, sampleRate: null, bitrateKbps: null, contentType: null };
}

/** Convenience over a whole stderr text. */
export function parseFfmpegInputInfo(stderr: string): FfmpegInputInfo {
  let info = emptyInputInfo();
  for (const line of stderr.split(/\r?\n/)) info = foldInputInfo(info, line);
  const { done: _done, ...rest } = info;
  return rest;
}
