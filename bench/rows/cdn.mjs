// CDN: concurrent listeners of one public playlist's stream.mp3 through nginx as a caching
// proxy (proxy_cache, lock on), then the same load straight at the origin. The figure is
// the origin's own request rate (its http_requests_total counter) behind nginx; the peer
// is the same origin without the CDN. Goal: < 10 origin requests/s behind the CDN.

import path from 'node:path';
import autocannon from 'autocannon';
import { startNginx } from '../lib/nginx.mjs';
import { generateMp3, originRequests, publicPlaylist, signUpDj } from '../lib/origin.mjs';

export const name = 'cdn';

const ROUTE = '/playlists/:id/stream.mp3';
const TARGET = 10;

export async function run(ctx) {
  const listeners = Number(process.env.BENCH_LISTENERS ?? (ctx.quick ? 100 : 1000));
  const seconds = ctx.seconds(10, 2);
  const dir = ctx.tempDir('djcast-bench-cdn-');
  const origin = await ctx.startDjcast({ env: { DJCAST_PLAYBACK_CACHE_SECONDS: '60' } });
  const dj = await signUpDj(origin.url);
  const playlist = await publicPlaylist(
    dj,
    [
      ['a.mp3', generateMp3(path.join(dir, 'a.mp3'), { seconds: 10, bitrateKbps: 64, frequency: 440 })],
      ['b.mp3', generateMp3(path.join(dir, 'b.mp3'), { seconds: 10, bitrateKbps: 64, frequency: 660 })],
    ],
    'CDN bench',
  );
  const nginx = await startNginx(path.join(dir, 'nginx'), origin.url);
  ctx.defer(() => nginx.stop());
  const streamPath = `/playlists/${playlist.id}/stream.mp3`;

  const originRate = async (base) => {
    const before = await originRequests(origin.url, ROUTE);
    const started = performance.now();
    const result = await autocannon({ url: `${base}${streamPath}`, connections: listeners, duration: seconds, timeout: 30 });
    const elapsed = (performance.now() - started) / 1000;
    const served = (await originRequests(origin.url, ROUTE)) - before;
    if (result['2xx'] === 0)
      throw new Error(`no listen succeeded through ${base}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    return { rate: served / elapsed, listens: result['2xx'] / elapsed };
  };
  const runs = await ctx.repeat(ctx.repeats, async () => {
    const cdn = await originRate(nginx.url);
    const direct = await originRate(origin.url);
    ctx.log(
      `behind nginx: ${ctx.fmt(cdn.rate)} origin req/s (${ctx.fmt(cdn.listens)} listens/s); direct: ${ctx.fmt(direct.rate)} req/s`,
    );
    return { djcast: cdn.rate, peer: direct.rate, listens: cdn.listens };
  });
  const cdn = runs.summary('djcast');
  const direct = runs.summary('peer');
  const met = cdn.median < TARGET;
  return [
    {
      what: `origin req/s behind nginx, ${listeners} listeners of stream.mp3`,
      unit: 'req/s',
      figure: cdn.median,
      spread: `${ctx.fmt(cdn.min)}..${ctx.fmt(cdn.max)}`,
      peer: 'same origin without the CDN',
      peerFigure: direct.median,
      peerSpread: `${ctx.fmt(direct.min)}..${ctx.fmt(direct.max)}`,
      ratio: cdn.median / direct.median,
      goal: `< ${TARGET} origin req/s`,
      met,
      note: `ratio is the share of requests that reach the origin; nginx served ${ctx.fmt(runs.summary('listens').median)} listens/s${met ? '' : `; misses: ${ctx.fmt(cdn.median)} req/s reach the origin`}`,
    },
  ];
}
