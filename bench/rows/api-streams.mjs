// Authenticated GET /v1/streams/{id} with an API token (djc_…), on SQLite and on Postgres,
// against a bare Hono route returning the same JSON. Goal: >= 0.60 of the peer.
// Each database gets its own fresh djcast process (and a fresh Postgres schema).

export const name = 'api-streams';

export async function run(ctx) {
  const seconds = ctx.seconds(10, 2);
  const rows = [];
  for (const database of ['sqlite', 'postgres']) {
    rows.push(
      await ctx.isolated(async (c) => {
        const djcast = await c.startDjcast({ database });
        const dj = await c.signUp(djcast.url);
        const source = await c.startFakeSource();
        const stream = await dj.api('POST', '/v1/streams', { name: 'Bench set', source_url: source.url, visibility: 'private' });
        const { token } = await dj.api('POST', '/v1/tokens', { name: 'bench', scopes: ['streams:read'] });
        const path = `/v1/streams/${stream.id}`;
        const json = await dj.api('GET', path, undefined, token);
        const peer = await c.startHonoPeer({ routePath: '/v1/streams/:id', json });
        const headers = { authorization: `Bearer ${token}` };
        const runs = await c.repeat(c.repeats, async () => {
          const d = await c.load(`${djcast.url}${path}`, { seconds, headers, pid: djcast.pid });
          const p = await c.load(`${peer.url}${path}`, { seconds, headers, pid: peer.pid });
          if (d.non2xx || d.errors) throw new Error(`djcast ${path}: ${d.non2xx} non-2xx, ${d.errors} errors`);
          c.log(`${database}: djcast ${c.fmt(d.rps)} req/s (p99 ${d.p99} ms), peer ${c.fmt(p.rps)} req/s (p99 ${p.p99} ms)`);
          return { djcast: d.rps, peer: p.rps, djcastCpu: d.cpuMsPer1k, peerCpu: p.cpuMsPer1k, p99: d.p99 };
        });
        const row = c.compareRow({
          what: `GET /v1/streams/{id}, API token, ${database === 'sqlite' ? 'SQLite' : 'Postgres'}`,
          unit: 'req/s',
          djcast: runs.summary('djcast'),
          peer: runs.summary('peer'),
          peerName: 'bare Hono, same JSON',
          goal: 0.6,
        });
        const detail = `p99 ${c.fmt(runs.summary('p99').median)} ms; CPU ${c.fmt(runs.summary('djcastCpu').median)} vs ${c.fmt(runs.summary('peerCpu').median)} ms per 1000 requests`;
        row.note =
          row.met === false
            ? `misses by ${c.fmt(0.6 - row.ratio)} of the peer's rate (auth lookup + a database query per request); ${detail}`
            : detail;
        return row;
      }),
    );
  }
  return rows;
}
