// Stream analytics for a year of a busy stream, on SQLite and on Postgres:
// a million listener sessions (and a heartbeat sample every 5 minutes) are
// written to the raw tables, the fold job's work is timed, then
//   1. GET /v1/analytics/streams/{id}?from&to for the year (JSON), and
//   2. the same with format=csv (the whole export read),
// through the whole app (auth, ownership, validation, aggregation, rendering),
// each against the peer: the same aggregate SELECT run directly through the
// driver (better-sqlite3 / postgres.js), with no app around it.
//
// A row of `pnpm bench`; also runs standalone: `node bench/rows/analytics.mjs`
// (needs `pnpm build`, and Postgres at DJCAST_BENCH_DATABASE_URL or the
// default test URL). BENCH_QUICK=1 writes 100k sessions instead of 1M.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { postgresUrl, root, serverRequire } from '../lib/djcast.mjs';
import { startFakeSource } from '../lib/peers.mjs';
import { createScope } from '../lib/proc.mjs';
import { compareRow, repeat } from '../lib/stats.mjs';

export const name = 'analytics';

const quick = process.env.BENCH_QUICK === '1';
const SESSIONS = quick ? 100_000 : 1_000_000;
const DAYS = 365;
const FROM = '2025-01-01';
const TO = '2025-12-31';
const QUERIES = quick ? 10 : 30;
const DAY_MS = 86_400_000;

const dist = (p) => import(pathToFileURL(path.join(root, 'packages/server/dist', p)).href);

/** A relay launcher that launches nothing: the bench registers a stream but needs no worker. */
const idleLauncher = {
  kind: 'process',
  start: async () => {},
  stop: async () => {},
  restart: async () => {},
  list: async () => [],
  close: async () => {},
};

async function build(database, dataDir) {
  const { loadConfig } = await dist('config.js');
  const { createContainer } = await dist('container.js');
  const { createApp } = await dist('app.js');
  const schema = `bench_an_${process.pid}_${Date.now().toString(36)}`;
  const config = loadConfig({
    DJCAST_DATA_DIR: dataDir,
    DJCAST_PUBLIC_URL: 'http://djcast.bench',
    DJCAST_ALLOW_PRIVATE_URLS: 'true',
    DJCAST_LOG_LEVEL: 'warn',
    DJCAST_ANALYTICS_RAW_RETENTION_DAYS: '3000',
    ...(database === 'postgres' ? { DJCAST_DATABASE_URL: postgresUrl(), DJCAST_DATABASE_SCHEMA: schema } : {}),
  });
  const container = await createContainer(config, {
    relayLauncher: idleLauncher,
    defaultMetrics: false,
    clock: () => new Date(`${TO}T23:59:00Z`),
  });
  const app = createApp(container);
  return { container, app, schema };
}

/** Sessions spread over the year (busier on some days), 2-90 minutes each, from ~200k distinct listeners. */
async function seed(container, streamId, log) {
  const db = container.db.kysely;
  const start = Date.parse(`${FROM}T00:00:00Z`);
  let seedState = 42;
  const rand = () => (seedState = (seedState * 1103515245 + 12345) % 2147483648) / 2147483648;
  const CHUNK = 1000;
  const began = performance.now();
  for (let written = 0; written < SESSIONS; ) {
    await db.transaction().execute(async (trx) => {
      for (let batch = 0; batch < 20 && written < SESSIONS; batch++) {
        const rows = [];
        for (let i = 0; i < CHUNK && written < SESSIONS; i++, written++) {
          const t = start + Math.floor(rand() * DAYS * DAY_MS);
          const ms = Math.floor((2 + rand() * 88) * 60_000);
          rows.push({
            id: `ses_${written}`,
            resource_kind: 'stream',
            resource_id: streamId,
            protocol: rand() < 0.7 ? 'hls' : 'mp3',
            listener_key: `a:listener${Math.floor(rand() * 200_000)}`,
            started_at: new Date(t).toISOString(),
            ended_at: new Date(t + ms).toISOString(),
            bytes: 0,
            audio_ms: ms,
          });
        }
        // 9 columns per row: 500 rows stay under SQLite's bound-parameter limit.
        for (let i = 0; i < rows.length; i += 500)
          await trx
            .insertInto('listener_sessions')
            .values(rows.slice(i, i + 500))
            .execute();
      }
    });
  }
  const samples = [];
  for (let t = start; t < start + DAYS * DAY_MS; t += 5 * 60_000) {
    samples.push({ stream_id: streamId, sampled_at: new Date(t).toISOString(), listener_count: Math.floor(50 + rand() * 400) });
  }
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < samples.length; i += 1000)
      await trx
        .insertInto('stream_listener_samples')
        .values(samples.slice(i, i + 1000))
        .execute();
  });
  log(`seeded ${SESSIONS} sessions and ${samples.length} samples in ${((performance.now() - began) / 1000).toFixed(1)} s`);
}

/** The peer: the aggregate SELECT the analytics route runs, straight through the driver. */
async function peerQuery(database, dataDir, schema) {
  const sql =
    'select day, metric, sub_id, value from analytics_daily where resource_id = $1 and day >= $2 and day <= $3 order by day, metric, sub_id';
  if (database === 'sqlite') {
    const Database = serverRequire('better-sqlite3');
    const db = new Database(path.join(dataDir, 'djcast.sqlite'), { readonly: true });
    const stmt = db.prepare(sql.replace(/\$\d/g, '?'));
    return { run: (id) => stmt.all(id, FROM, TO), close: async () => db.close() };
  }
  const postgres = serverRequire('postgres');
  const client = postgres(postgresUrl(), { max: 1, onnotice: () => {}, connection: { search_path: schema } });
  return { run: (id) => client.unsafe(sql, [id, FROM, TO]), close: () => client.end({ timeout: 5 }) };
}

const timeIt = async (fn) => {
  const started = performance.now();
  await fn();
  return performance.now() - started;
};

async function one(database, log) {
  const scope = createScope();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-bench-analytics-'));
  let built;
  try {
    const source = await startFakeSource(scope);
    built = await build(database, dataDir);
    const { app, container } = built;
    const call = (method, url, body, token) =>
      app.fetch(
        new Request(`http://djcast.bench${url}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        }),
      );
    const email = `bench-analytics-${Date.now()}@example.com`;
    const password = 'turntable-Wizard-42!';
    await call('POST', '/v1/auth/register', { email, password });
    const { access_token: token } = await (await call('POST', '/v1/auth/login', { email, password })).json();
    const stream = await (await call('POST', '/v1/streams', { name: 'Busy', source_url: source.url }, token)).json();
    if (!stream.id) throw new Error(`could not register a stream: ${JSON.stringify(stream)}`);
    await seed(container, stream.id, log);
    const foldMs = await timeIt(() => container.analytics.fold());
    log(`${database}: folded a year in ${(foldMs / 1000).toFixed(1)} s`);

    const url = `/v1/analytics/streams/${stream.id}?from=${FROM}&to=${TO}`;
    const check = await (await call('GET', url, null, token)).json();
    if (check.daily_listeners?.length !== DAYS)
      throw new Error(`expected ${DAYS} days, got ${JSON.stringify(check).slice(0, 200)}`);
    const peer = await peerQuery(database, dataDir, built.schema);
    try {
      // unique_listeners, peak_concurrent, listening_seconds and plays, every day.
      if ((await peer.run(stream.id)).length !== DAYS * 4) throw new Error('the peer query does not see the aggregates');
      const apiJson = await repeat(QUERIES, () => timeIt(async () => (await call('GET', url, null, token)).json()));
      const apiCsv = await repeat(QUERIES, () =>
        timeIt(async () => (await call('GET', `${url}&format=csv`, null, token)).text()),
      );
      const direct = await repeat(QUERIES, () => timeIt(() => peer.run(stream.id)));
      const summary = (r) => r.summary((x) => x);
      const note = `${SESSIONS / 1000}k sessions folded in ${(foldMs / 1000).toFixed(1)} s`;
      return [
        compareRow({
          what: `stream analytics, a year (${database})`,
          unit: 'ms',
          djcast: summary(apiJson),
          peer: summary(direct),
          peerName: `the aggregate SELECT via ${database === 'sqlite' ? 'better-sqlite3' : 'postgres.js'}`,
          higherIsBetter: false,
          goal: null,
          goalText: 'a year in well under a second',
          note,
        }),
        compareRow({
          what: `stream analytics CSV export, a year (${database})`,
          unit: 'ms',
          djcast: summary(apiCsv),
          peer: summary(direct),
          peerName: `the aggregate SELECT via ${database === 'sqlite' ? 'better-sqlite3' : 'postgres.js'}`,
          higherIsBetter: false,
          goal: null,
          goalText: 'a year in well under a second',
          note: `${DAYS * 3 + 1} CSV lines`,
        }),
      ];
    } finally {
      await peer.close();
    }
  } finally {
    if (built) {
      await built.container.close();
      if (database === 'postgres') {
        const postgres = serverRequire('postgres');
        const sql = postgres(postgresUrl(), { max: 1, onnotice: () => {} });
        await sql.unsafe(`drop schema if exists "${built.schema}" cascade`);
        await sql.end({ timeout: 5 });
      }
    }
    await scope.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(ctx = { log: (...a) => console.error(...a) }) {
  const rows = [];
  for (const database of ['sqlite', 'postgres']) rows.push(...(await one(database, ctx.log)));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  for (const r of rows)
    console.log(
      `${r.what}: ${r.figure.toFixed(2)} ms (peer ${r.peerFigure.toFixed(3)} ms, ratio ${r.ratio.toFixed(3)}) ${r.note}`,
    );
}
