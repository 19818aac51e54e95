import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/create-db.js';

export interface JobQueueRow {
  kind: string;
  /** Queued jobs whose time has come, plus running ones. */
  depth: number;
  running: number;
  /** When the oldest due queued job became due (ISO), or null when none waits. */
  oldestDueAt: string | null;
}

/** Per job kind: jobs waiting or running, and how long the oldest due one has waited. One grouped query over the claim index. */
export async function jobQueueStats(db: Db, now: Date): Promise<JobQueueRow[]> {
  const nowIso = now.toISOString();
  const rows = await db.kysely
    .selectFrom('jobs')
    .select((eb) => ['kind', 'state', eb.fn.countAll<number | string>().as('n'), eb.fn.min<string>('run_after').as('oldest')])
    .where((eb) => eb.or([eb('state', '=', 'running'), eb.and([eb('state', '=', 'queued'), eb('run_after', '<=', nowIso)])]))
    .groupBy(['kind', 'state'])
    .execute();
  const byKind = new Map<string, JobQueueRow>();
  for (const r of rows) {
    const row = byKind.get(r.kind) ?? { kind: r.kind, depth: 0, running: 0, oldestDueAt: null };
    const n = Number(r.n);
    row.depth += n;
    if (r.state === 'running') row.running += n;
    else row.oldestDueAt = r.oldest;
    byKind.set(r.kind, row);
  }
  return [...byKind.values()];
}

/**
 * Queue gauges read from the shared jobs table at scrape time, so every
 * replica reports the same queue. Kinds the process knows are always present
 * (0 when idle), so an alert on them has a series to compare.
 */
export function registerJobQueueMetrics(
  registry: Registry,
  opts: { stats: () => Promise<JobQueueRow[]>; kinds: () => readonly string[]; clock: () => Date },
): void {
  // One query per scrape: the registry calls every collect() in the same tick, so they share the
  // query in flight; the next scrape starts a fresh one.
  let pending: Promise<JobQueueRow[]> | null = null;
  const snapshot = () => {
    pending ??= opts.stats().finally(() => {
      pending = null;
    });
    return pending;
  };
  const fill = async (gauge: Gauge<'kind'>, value: (row: JobQueueRow | undefined) => number) => {
    const rows = new Map((await snapshot()).map((r) => [r.kind, r]));
    gauge.reset();
    for (const kind of new Set([...opts.kinds(), ...rows.keys()])) gauge.set({ kind }, value(rows.get(kind)));
  };
  new Gauge({
    name: 'job_queue_depth',
    help: 'Background jobs due or running, by kind (upload.process is the transcode queue)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      await fill(this, (r) => r?.depth ?? 0);
    },
  });
  new Gauge({
    name: 'job_queue_running',
    help: 'Background jobs running now, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      await fill(this, (r) => r?.running ?? 0);
    },
  });
  new Gauge({
    name: 'job_queue_oldest_age_seconds',
    help: 'How long the oldest due, unclaimed job of a kind has waited (0 when none waits)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      const now = opts.clock().getTime();
      await fill(this, (r) => (r?.oldestDueAt ? Math.max(0, (now - Date.parse(r.oldestDueAt)) / 1000) : 0));
    },
  });
}
