// Upload ingest: one 100 MB multipart upload to POST /v1/uploads/audio (parse, store, probe,
// record; the job worker is off so no transcode competes) against a bare node:http sink
// writing the same request body to disk. Same client, same file, same Node.
// Goal: djcast at >= 0.50 of the sink's speed.

import { mp3OfSize, uploadFile } from '../lib/media.mjs';

export const name = 'upload-ingest';

export async function run(ctx) {
  const bytes = ctx.quick ? 20e6 : 100e6;
  const dir = ctx.tempDir('djcast-bench-audio-');
  const audio = mp3OfSize(dir, bytes);
  const djcast = await ctx.startDjcast({ env: { DJCAST_JOB_WORKER: 'off' } });
  const dj = await ctx.signUp(djcast.url);
  const sink = await ctx.startSinkPeer();
  // One of each first: page cache, JIT and the data dir's first writes out of the timed runs.
  await uploadFile(`${djcast.url}/v1/uploads/audio`, audio.file, { token: dj.token });
  await uploadFile(`${sink.url}/`, audio.file);
  const runs = await ctx.repeat(ctx.repeats, async () => {
    const cpu0 = ctx.cpuSeconds(djcast.pid);
    const d = await uploadFile(`${djcast.url}/v1/uploads/audio`, audio.file, { token: dj.token });
    const cpu = ctx.cpuSeconds(djcast.pid) - cpu0;
    if (d.status !== 201) throw new Error(`upload: ${d.status} ${JSON.stringify(d.body)}`);
    const p = await uploadFile(`${sink.url}/`, audio.file);
    if (p.status !== 201) throw new Error(`sink: ${p.status} ${JSON.stringify(p.body)}`);
    ctx.log(`djcast ${d.seconds.toFixed(3)} s (CPU ${cpu.toFixed(2)} s), sink ${p.seconds.toFixed(3)} s`);
    return { djcast: d.seconds, peer: p.seconds, cpu };
  });
  const mb = (audio.size / 1e6).toFixed(0);
  const row = ctx.compareRow({
    what: `${mb} MB upload (POST /v1/uploads/audio)`,
    unit: 's',
    djcast: runs.summary('djcast'),
    peer: runs.summary('peer'),
    peerName: 'bare node:http sink to disk',
    higherIsBetter: false,
    goal: 0.5,
  });
  const cpu = `djcast CPU ${runs.summary('cpu').median.toFixed(2)} s per upload`;
  row.note = row.met === false ? `misses: ${ctx.fmt(row.ratio)} of the sink's speed, goal 0.50; ${cpu}` : cpu;
  return [row];
}
