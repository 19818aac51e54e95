// Upload -> HLS ready: from the start of POST /v1/uploads/audio to the upload reading
// `ready` (ingest, probe, job pickup, transcode, publishing the rendition), against the
// same FFmpeg command djcast runs, by hand on the same file (stdin from the file, output to
// a temp dir). Goal: within 5% (ratio >= 0.95).

import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { mp3OfSize, uploadFile } from '../lib/media.mjs';

export const name = 'upload-ready';

/** The arguments djcast's transcoder uses (packages/server/src/adapters/transcoder/ffmpeg-args.ts). */
async function transcodeArgs(ctx, outDir) {
  const { buildTranscodeArgs } = await import(
    path.join(ctx.root, 'packages/server/dist/adapters/transcoder/ffmpeg-args.js')
  ).catch(() => ({ buildTranscodeArgs: null }));
  if (!buildTranscodeArgs) throw new Error('packages/server/dist has no transcoder module: run `pnpm build`');
  return buildTranscodeArgs({ outDir });
}

async function ffmpegByHand(ctx, file, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const args = await transcodeArgs(ctx, outDir);
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => reject(e.code === 'ENOENT' ? new Error('ffmpeg is not installed: apt-get install ffmpeg') : e));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr}`))));
    createReadStream(file).pipe(child.stdin);
  });
  return (performance.now() - started) / 1000;
}

export async function run(ctx) {
  const dir = ctx.tempDir('djcast-bench-audio-');
  // 10 minutes at 128 kbps (about 9.6 MB); a minute under BENCH_QUICK.
  const audio = mp3OfSize(dir, ctx.quick ? 0.96e6 : 9.6e6, { bitrateKbps: 128 });
  const djcast = await ctx.startDjcast();
  const dj = await ctx.signUp(djcast.url);
  const runs = await ctx.repeat(ctx.repeats, async (i) => {
    const started = performance.now();
    const up = await uploadFile(`${djcast.url}/v1/uploads/audio`, audio.file, { token: dj.token, filename: `set-${i}.mp3` });
    if (up.status !== 201) throw new Error(`upload: ${up.status} ${JSON.stringify(up.body)}`);
    let view;
    const deadline = Date.now() + 600_000;
    for (;;) {
      view = await dj.api('GET', `/v1/uploads/audio/${up.body.id}`);
      if (view.status !== 'processing') break;
      if (Date.now() > deadline) throw new Error(`upload ${up.body.id} still processing after 600 s`);
      await ctx.sleep(25);
    }
    if (view.status !== 'ready') throw new Error(`upload ${up.body.id} ended ${view.status}: ${view.reason}`);
    const djcastSeconds = (performance.now() - started) / 1000;
    const byHand = await ffmpegByHand(ctx, audio.file, path.join(dir, 'by-hand'));
    ctx.log(`djcast ${djcastSeconds.toFixed(2)} s (upload ${up.seconds.toFixed(2)} s), ffmpeg by hand ${byHand.toFixed(2)} s`);
    return { djcast: djcastSeconds, peer: byHand, upload: up.seconds };
  });
  const row = ctx.compareRow({
    what: `upload -> HLS ready, ${Math.round(audio.seconds / 60)} min MP3 (${(audio.size / 1e6).toFixed(1)} MB)`,
    unit: 's',
    djcast: runs.summary('djcast'),
    peer: runs.summary('peer'),
    peerName: 'same FFmpeg command by hand',
    higherIsBetter: false,
    goal: 0.95,
    goalText: 'within 5% (>= 0.95)',
  });
  const detail = `of which the upload request ${ctx.fmt(runs.summary('upload').median)} s`;
  row.note =
    row.met === false
      ? `misses: djcast takes ${((1 / row.ratio - 1) * 100).toFixed(0)}% longer than FFmpeg alone, goal 5%; ${detail}`
      : detail;
  return [row];
}
