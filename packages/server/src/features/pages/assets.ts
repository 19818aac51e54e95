// The scripts the pages load, served from the server's own origin (no CDN):
// the <djcast-player> web component (assets/djcast-player.js in this
// package) and hls.js's light build from the hls.js package. Each is read
// once, named by its content hash (/assets/<name>.<hash>.<ext>, cached for
// good) and compressed ahead of time; /player.js is the stable name for
// other sites, cached briefly.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export interface Asset {
  /** The versioned file name under /assets/. */
  file: string;
  path: string;
  etag: string;
  contentType: string;
  /** The bytes in an encoding, compressed on first use and kept. */
  body(encoding: Encoding): Buffer;
}

export type Encoding = 'br' | 'gzip' | 'identity';

/** Where the web component's source lives: packages/server/assets, from src/features/pages or dist/features/pages alike. */
const PLAYER_SOURCE = fileURLToPath(new URL('../../../assets/djcast-player.js', import.meta.url));
/** Replaced in the player source by the versioned hls.js URL. */
const HLS_PLACEHOLDER = '__DJCAST_HLS_SCRIPT__';

function asset(name: string, ext: string, contentType: string, source: Buffer): Asset {
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const file = `${name}.${hash}.${ext}`;
  const encoded = new Map<Encoding, Buffer>([['identity', source]]);
  const compress: Record<Exclude<Encoding, 'identity'>, () => Buffer> = {
    br: () => brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    gzip: () => gzipSync(source, { level: 9 }),
  };
  return {
    file,
    path: `/assets/${file}`,
    etag: `"${hash}"`,
    contentType,
    body(encoding) {
      let bytes = encoded.get(encoding);
      if (!bytes) {
        bytes = compress[encoding as Exclude<Encoding, 'identity'>]();
        encoded.set(encoding, bytes);
      }
      return bytes;
    },
  };
}

export class PageAssets {
  readonly hls: Asset;
  readonly player: Asset;
  private readonly byFile: Map<string, Asset>;

  constructor() {
    const require = createRequire(import.meta.url);
    // The ES module build, so the player can import() it (from another origin too: /assets answers with CORS).
    const hlsSource = readFileSync(require.resolve('hls.js/dist/hls.light.min.mjs'));
    this.hls = asset('hls', 'mjs', 'text/javascript; charset=utf-8', hlsSource);
    const playerSource = readFileSync(PLAYER_SOURCE, 'utf8');
    if (!playerSource.includes(HLS_PLACEHOLDER)) throw new Error(`${PLAYER_SOURCE} lost its ${HLS_PLACEHOLDER} placeholder`);
    this.player = asset(
      'player',
      'js',
      'text/javascript; charset=utf-8',
      Buffer.from(playerSource.replaceAll(HLS_PLACEHOLDER, this.hls.path)),
    );
    this.byFile = new Map([this.hls, this.player].map((a) => [a.file, a]));
  }

  find(file: string): Asset | undefined {
    return this.byFile.get(file);
  }
}

let shared: PageAssets | undefined;

/** Built once per process: reading and compressing hls.js takes a moment. */
export function pageAssets(): PageAssets {
  shared ??= new PageAssets();
  return shared;
}

/** The smallest encoding the client accepts. */
export function pickEncoding(acceptEncoding: string | undefined): Encoding {
  const accepted = (acceptEncoding ?? '')
    .toLowerCase()
    .split(',')
    .map((part) => part.trim().split(';'))
    .filter(([, q]) => !q || !/^q=0(\.0*)?$/.test(q.trim()))
    .map(([name]) => name);
  if (accepted.includes('br')) return 'br';
  if (accepted.includes('gzip')) return 'gzip';
  return 'identity';
}
