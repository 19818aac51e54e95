// GET /healthz req/s against a bare Hono route answering the same JSON, on the same Node.
// Goal: >= 0.80 of the peer. Every djcast request is logged (info) and counted, as in production.

export const name = 'api-healthz';

export async function run(ctx) {
  const seconds = ctx.seconds(10, 2);
  const djcast = await ctx.startDjcast();
  const json = await (await fetch(`${djcast.url}/healthz`)).json();
  const peer = await ctx.startHonoPeer({ routePath: '/healthz', json });
  const runs = await ctx.repeat(ctx.repeats, async () => {
    const d = await ctx.load(`${djcast.url}/healthz`, { seconds, pid: djcast.pid });
    const p = await ctx.load(`${peer.url}/healthz`, { seconds, pid: peer.pid });
    if (d.non2xx || d.errors) throw new Error(`djcast /healthz: ${d.non2xx} non-2xx, ${d.errors} errors`);
    ctx.log(`djcast ${ctx.fmt(d.rps)} req/s (p99 ${d.p99} ms), peer ${ctx.fmt(p.rps)} req/s (p99 ${p.p99} ms)`);
    return { djcast: d.rps, peer: p.rps, djcastCpu: d.cpuMsPer1k, peerCpu: p.cpuMsPer1k, p99: d.p99 };
  });
  const row = ctx.compareRow({
    what: 'GET /healthz',
    unit: 'req/s',
    djcast: runs.summary('djcast'),
    peer: runs.summary('peer'),
    peerName: 'bare Hono JSON route',
    goal: 0.8,
  });
  const cpu = `CPU ${ctx.fmt(runs.summary('djcastCpu').median)} vs ${ctx.fmt(runs.summary('peerCpu').median)} ms per 1000 requests`;
  row.note = row.met === false ? `misses by ${ctx.fmt(0.8 - row.ratio)} of the peer's rate; ${cpu}` : cpu;
  return [row];
}
