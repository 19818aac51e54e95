// Test support: generates real audio with the system ffmpeg (lavfi sine), so
// tests exercise files an encoder actually wrote instead of committed blobs.
// Lives under src/ because the package's tsconfig roots at src/.

import { execa } from 'execa';

export interface TestMp3Options {
  seconds: number;
  /** Constant bitrate; ignored when `vbrQuality` is set. Default 128. */
  bitrateKbps?: number;
  /** LAME VBR quality 0 (best) .. 9; makes a VBR file. */
  vbrQuality?: number;
  sampleRate?: number;
  channels?: 1 | 2;
  frequency?: number;
  /** Write an ID3v2.4 tag (with a title). Default true. */
  id3v2?: boolean;
  /** Append an ID3v1 tag. Default false. */
  id3v1?: boolean;
  /** Write the Xing/Info first frame. Default true. */
  xing?: boolean;
  /** Mix in some noise, which makes VBR frame sizes vary. */
  noise?: boolean;
  /** Embed a small PNG as cover art (an attached-picture video stream, as phones and taggers write). */
  coverArt?: boolean;
}

export async function generateTestMp3(path: string, options: TestMp3Options): Promise<string> {
  const {
    seconds,
    bitrateKbps = 128,
    vbrQuality,
    sampleRate = 44100,
    channels = 2,
    frequency = 440,
    id3v2 = true,
    id3v1 = false,
    xing = true,
    noise = false,
    coverArt = false,
  } = options;
  const source = noise
    ? `sine=frequency=${frequency}:duration=${seconds}:sample_rate=${sampleRate}[s];` +
      `anoisesrc=duration=${seconds}:sample_rate=${sampleRate}:amplitude=0.3[n];[s][n]amix=inputs=2`
    : `sine=frequency=${frequency}:duration=${seconds}:sample_rate=${sampleRate}`;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    source,
    ...(coverArt
      ? ['-f', 'lavfi', '-i', 'color=c=orange:s=32x32:d=1', '-map', '0:a', '-map', '1:v', '-frames:v', '1', '-c:v', 'png', '-disposition:v', 'attached_pic']
      : []),
    '-ac',
    String(channels),
    '-ar',
    String(sampleRate),
    '-c:a',
    'libmp3lame',
    ...(vbrQuality === undefined ? ['-b:a', `${bitrateKbps}k`] : ['-q:a', String(vbrQuality)]),
    '-id3v2_version',
    id3v2 ? '4' : '0',
    // The muxer writes an ID3v1 tag only when there is metadata to put in it.
    ...(id3v2 || id3v1 ? ['-metadata', `title=Test tone ${frequency} Hz`, '-metadata', 'artist=djcast tests'] : []),
    '-write_id3v1',
    id3v1 ? '1' : '0',
    '-write_xing',
    xing ? '1' : '0',
    '-f',
    'mp3',
    path,
  ];
  await runFfmpeg(args);
  return path;
}

export async function generateTestWav(path: string, seconds: number): Promise<string> {
  await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=duration=${seconds}`, path]);
  return path;
}

async function runFfmpeg(args: string[]): Promise<void> {
  try {
    await execa('ffmpeg', args);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new Error('ffmpeg is not installed: run `apt-get install ffmpeg` (scripts/install-system-deps.sh)');
    }
    throw error;
  }
}
