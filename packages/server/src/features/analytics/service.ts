import type { Kysely } from 'kysely';
import type { Principal } from '../../core/principal.js';
import type { AnalyticsDailyTable, Database } from '../../db/tables.js';
import { enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import type { PlaylistsService } from '../playlists/service.js';
import type { PodcastsService } from '../podcasts/service.js';
import type { StreamsService } from '../streams/service.js';
import { addDays, dayOf, daysBetween, type DayRange } from './days.js';
import { countDownloads, type EpisodeSize } from './downloads.js';
import { FOLD_ANALYTICS } from './job-types.js';
import * as repo from './repository.js';
import type { SessionRecorder } from './sessions.js';

export interface AnalyticsDeps {
  db: Kysely<Database>;
  streams: StreamsService;
  playlists: PlaylistsService;
  podcasts: PodcastsService;
  jobs: JobQueue;
  logger: Logger;
  /** The recorder the playback routes write into (createListenerSessions). */
  sessions: SessionRecorder;
  rawRetentionDays: number;
  foldIntervalMs: number;
  clock?: () => Date;
}

/** The metrics the fold writes to analytics_daily. */
export const METRICS = {
  uniqueListeners: 'unique_listeners',
  peakConcurrent: 'peak_concurrent',
  listeningSeconds: 'listening_seconds',
  plays: 'plays',
  downloads: 'downloads',
  /** Per ad marker (sub id): impressions that started that day, and how many of those completed. */
  adImpressions: 'ad_impressions',
  adCompletions: 'ad_completions',
} as const;

export interface StreamAnalytics {
  stream_id: string;
  from: string;
  to: string;
  current_listeners: number;
  current_as_of: string | null;
  peak_listeners: number;
  total_listening_hours: number;
  daily_listeners: { date: string; unique_listeners: number; peak_concurrent: number; listening_hours: number }[];
}

export interface PlaylistAnalytics {
  playlist_id: string;
  from: string;
  to: string;
  total_plays: number;
  peak_listeners: number;
  total_listening_hours: number;
  play_count: { date: string; plays: number; unique_listeners: number; peak_concurrent: number; listening_hours: number }[];
}

export interface PodcastAnalytics {
  podcast_id: string;
  from: string;
  to: string;
  total_downloads: number;
  daily_downloads: { date: string; downloads: number }[];
  episodes: { episode_id: string; total_downloads: number; daily_downloads: { date: string; downloads: number }[] }[];
}

export interface AdCounts {
  impressions: number;
  completions: number;
  /** completions / impressions, rounded to 4 places; null without impressions. */
  completion_rate: number | null;
}

export interface AdAnalytics extends AdCounts {
  resource_kind: 'playlist' | 'stream';
  resource_id: string;
  from: string;
  to: string;
  daily: ({ date: string } & AdCounts)[];
  markers: ({ marker_id: string; daily: ({ date: string } & AdCounts)[] } & AdCounts)[];
}

/** Whose ads: a playlist's or a live stream's. */
export type AdScope = { kind: 'playlist'; id: string } | { kind: 'stream'; id: string };

/** One CSV row: `date,metric,value` (an empty value: no value that day, e.g. a rate without impressions). */
export type CsvRow = [date: string, metric: string, value: number | null];

export function adCounts(impressions: number, completions: number): AdCounts {
  return {
    impressions,
    completions,
    completion_rate: impressions === 0 ? null : Math.round((completions / impressions) * 10_000) / 10_000,
  };
}

const hours = (seconds: number) => Math.round((seconds / 3600) * 1000) / 1000;

export class AnalyticsService {
  readonly recorder: SessionRecorder;
  private readonly clock: () => Date;

  constructor(private readonly deps: AnalyticsDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.recorder = deps.sessions;
  }

  /** Starts the session writer's timer and makes sure a fold job is queued. */
  async start(): Promise<void> {
    this.recorder.start();
    await this.scheduleFold();
  }

  async stop(): Promise<void> {
    await this.recorder.stop();
  }

  /** Queues the next fold unless one is already waiting. */
  async scheduleFold(delayMs = this.deps.foldIntervalMs): Promise<void> {
    const waiting = await this.deps.db
      .selectFrom('jobs')
      .select('id')
      .where('kind', '=', FOLD_ANALYTICS.kind)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    if (waiting) return;
    await enqueue(this.deps.db, FOLD_ANALYTICS, {}, { delayMs, now: this.clock() });
  }

  /**
   * Folds raw rows into daily aggregates: every day from the one before the
   * last fold (late rows) to today is recomputed from its raw rows, so a
   * fold can run any number of times. Then raw rows older than the
   * retention are deleted; days that old are never folded again.
   */
  async fold(): Promise<{ days: number; deleted: number }> {
    const { db } = this.deps;
    const now = this.clock();
    const today = dayOf(now);
    const cutoffDay = addDays(today, -this.deps.rawRetentionDays);
    const last = await repo.foldedAt(db);
    let first = last
      ? addDays(dayOf(new Date(last)), -1)
      : await repo.earliestRaw(db).then((at) => (at ? at.slice(0, 10) : today));
    if (first < cutoffDay) first = cutoffDay;
    const days = daysBetween(first, today);
    for (const day of days) await this.foldDay(day);
    await repo.setFoldedAt(db, now.toISOString());
    const deleted = await repo.deleteRawBefore(db, `${cutoffDay}T00:00:00.000Z`);
    return { days: days.length, deleted };
  }

  /** Recomputes one day's aggregates from the raw rows, in one transaction. */
  async foldDay(day: string): Promise<void> {
    const from = `${day}T00:00:00.000Z`;
    const to = `${addDays(day, 1)}T00:00:00.000Z`;
    await this.deps.db.transaction().execute(async (trx) => {
      const rows = new Map<string, AnalyticsDailyTable>();
      const put = (kind: string, resourceId: string, metric: string, value: number, subId = '') => {
        const key = `${resourceId}\n${metric}\n${subId}`;
        const existing = rows.get(key);
        if (existing) existing.value = Math.max(existing.value, value);
        else rows.set(key, { resource_id: resourceId, day, metric, sub_id: subId, resource_kind: kind, value });
      };

      for (const r of await repo.sessionTotals(trx, from, to)) {
        put(r.resource_kind, r.resource_id, METRICS.uniqueListeners, Number(r.listeners));
        put(r.resource_kind, r.resource_id, METRICS.plays, Number(r.plays ?? 0));
        put(r.resource_kind, r.resource_id, METRICS.listeningSeconds, Math.round(Number(r.audio_ms ?? 0) / 1000));
      }
      for (const [id, peak] of peakConcurrency(
        await repo.playlistSessionSpans(trx, from, to, `${addDays(day, -1)}T00:00:00.000Z`),
      )) {
        put('playlist', id, METRICS.peakConcurrent, peak);
      }
      // A live stream's concurrency is what its relay reported (HLS sessions plus direct source listeners).
      for (const r of await repo.streamPeaks(trx, from, to)) {
        put('stream', r.stream_id, METRICS.peakConcurrent, Number(r.peak ?? 0));
      }

      // Downloads: the day before is read too, so a 24-hour window that began yesterday still holds.
      const requests = await repo.downloadRequests(trx, `${addDays(day, -1)}T00:00:00.000Z`, to);
      const podcastOf = new Map(requests.map((r) => [r.episode_id, r.podcast_id]));
      const sizes = new Map<string, EpisodeSize>(
        (await repo.episodeSizes(trx, [...podcastOf.keys()])).map((e) => [
          e.id,
          {
            media_bytes: Number(e.media_bytes),
            duration_seconds: e.duration_seconds === null ? null : Number(e.duration_seconds),
          },
        ]),
      );
      const perEpisode = new Map<string, number>();
      for (const d of countDownloads(requests, sizes)) {
        if (d.at < from) continue;
        perEpisode.set(d.episode_id, (perEpisode.get(d.episode_id) ?? 0) + 1);
      }
      for (const [episodeId, n] of perEpisode) put('podcast', podcastOf.get(episodeId)!, METRICS.downloads, n, episodeId);

      // Ad impressions per marker, on the day they started (a completion counts with its impression).
      for (const r of await repo.adImpressionTotals(trx, from, to)) {
        const kind = r.resource_id.startsWith('str_') ? 'stream' : 'playlist';
        put(kind, r.resource_id, METRICS.adImpressions, Number(r.impressions), r.marker_id);
        put(kind, r.resource_id, METRICS.adCompletions, Number(r.completions), r.marker_id);
      }

      await repo.deleteDailyOf(trx, day);
      await repo.insertDaily(trx, [...rows.values()]);
    });
  }

  async stream(principal: Principal, id: string, range: DayRange): Promise<StreamAnalytics> {
    const status = await this.deps.streams.status(principal, id);
    const byDay = await this.daily(id, range);
    const daily_listeners = daysBetween(range.from, range.to).map((date) => {
      const m = byDay.get(date);
      return {
        date,
        unique_listeners: m?.get(METRICS.uniqueListeners) ?? 0,
        peak_concurrent: m?.get(METRICS.peakConcurrent) ?? 0,
        listening_hours: hours(m?.get(METRICS.listeningSeconds) ?? 0),
      };
    });
    return {
      stream_id: id,
      from: range.from,
      to: range.to,
      current_listeners: status.listener_count,
      current_as_of: status.last_heartbeat_at,
      peak_listeners: Math.max(0, ...daily_listeners.map((d) => d.peak_concurrent)),
      total_listening_hours: hours(sumOf(byDay, METRICS.listeningSeconds)),
      daily_listeners,
    };
  }

  async playlist(principal: Principal, id: string, range: DayRange): Promise<PlaylistAnalytics> {
    await this.deps.playlists.get(principal, id);
    const byDay = await this.daily(id, range);
    const play_count = daysBetween(range.from, range.to).map((date) => {
      const m = byDay.get(date);
      return {
        date,
        plays: m?.get(METRICS.plays) ?? 0,
        unique_listeners: m?.get(METRICS.uniqueListeners) ?? 0,
        peak_concurrent: m?.get(METRICS.peakConcurrent) ?? 0,
        listening_hours: hours(m?.get(METRICS.listeningSeconds) ?? 0),
      };
    });
    return {
      playlist_id: id,
      from: range.from,
      to: range.to,
      total_plays: play_count.reduce((n, d) => n + d.plays, 0),
      peak_listeners: Math.max(0, ...play_count.map((d) => d.peak_concurrent)),
      total_listening_hours: hours(sumOf(byDay, METRICS.listeningSeconds)),
      play_count,
    };
  }

  async podcast(principal: Principal, id: string, range: DayRange): Promise<PodcastAnalytics> {
    await this.deps.podcasts.getOwned(principal, id);
    const rows = await repo.dailyOf(this.deps.db, id, range.from, range.to);
    const days = daysBetween(range.from, range.to);
    const total = new Map<string, number>();
    const episodes = new Map<string, Map<string, number>>();
    for (const r of rows) {
      if (r.metric !== METRICS.downloads) continue;
      total.set(r.day, (total.get(r.day) ?? 0) + Number(r.value));
      let e = episodes.get(r.sub_id);
      if (!e) episodes.set(r.sub_id, (e = new Map()));
      e.set(r.day, Number(r.value));
    }
    const series = (m: Map<string, number>) => days.map((date) => ({ date, downloads: m.get(date) ?? 0 }));
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    return {
      podcast_id: id,
      from: range.from,
      to: range.to,
      total_downloads: sum(total),
      daily_downloads: series(total),
      episodes: [...episodes.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([episode_id, m]) => ({ episode_id, total_downloads: sum(m), daily_downloads: series(m) })),
    };
  }

  /** Ad impressions and completions of a playlist's or a stream's markers, per day and marker. */
  async ads(principal: Principal, scope: AdScope, range: DayRange): Promise<AdAnalytics> {
    if (scope.kind === 'playlist') await this.deps.playlists.getOwned(principal, scope.id);
    else await this.deps.streams.getOwned(principal, scope.id);
    const days = daysBetween(range.from, range.to);
    const markers = new Map<string, Map<string, [number, number]>>();
    for (const r of await repo.dailyOf(this.deps.db, scope.id, range.from, range.to)) {
      const which = r.metric === METRICS.adImpressions ? 0 : r.metric === METRICS.adCompletions ? 1 : null;
      if (which === null) continue;
      let m = markers.get(r.sub_id);
      if (!m) markers.set(r.sub_id, (m = new Map()));
      let day = m.get(r.day);
      if (!day) m.set(r.day, (day = [0, 0]));
      day[which] += Number(r.value);
    }
    const series = (m: Map<string, [number, number]>) =>
      days.map((date) => ({ date, ...adCounts(m.get(date)?.[0] ?? 0, m.get(date)?.[1] ?? 0) }));
    const total = (daily: AdCounts[]) =>
      adCounts(
        daily.reduce((n, d) => n + d.impressions, 0),
        daily.reduce((n, d) => n + d.completions, 0),
      );
    const perMarker = [...markers.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([marker_id, m]) => {
        const daily = series(m);
        return { marker_id, ...total(daily), daily };
      });
    const daily = days.map((date, i) =>
      Object.assign(
        { date },
        adCounts(
          perMarker.reduce((n, m) => n + m.daily[i]!.impressions, 0),
          perMarker.reduce((n, m) => n + m.daily[i]!.completions, 0),
        ),
      ),
    );
    return {
      resource_kind: scope.kind,
      resource_id: scope.id,
      from: range.from,
      to: range.to,
      ...total(daily),
      daily,
      markers: perMarker,
    };
  }

  /** CSV rows (`date,metric,value`) of an answer, in date order. */
  static csvRows(answer: StreamAnalytics | PlaylistAnalytics | PodcastAnalytics | AdAnalytics): CsvRow[] {
    const out: CsvRow[] = [];
    if ('markers' in answer) {
      answer.daily.forEach((d, i) => {
        out.push([d.date, 'impressions', d.impressions], [d.date, 'completions', d.completions]);
        out.push([d.date, 'completion_rate', d.completion_rate]);
        for (const m of answer.markers) {
          const md = m.daily[i]!;
          out.push(
            [d.date, `impressions:${m.marker_id}`, md.impressions],
            [d.date, `completions:${m.marker_id}`, md.completions],
          );
          out.push([d.date, `completion_rate:${m.marker_id}`, md.completion_rate]);
        }
      });
    } else if ('daily_listeners' in answer) {
      for (const d of answer.daily_listeners) {
        out.push([d.date, 'unique_listeners', d.unique_listeners], [d.date, 'peak_concurrent', d.peak_concurrent]);
        out.push([d.date, 'listening_hours', d.listening_hours]);
      }
    } else if ('play_count' in answer) {
      for (const d of answer.play_count) {
        out.push([d.date, 'plays', d.plays], [d.date, 'unique_listeners', d.unique_listeners]);
        out.push([d.date, 'peak_concurrent', d.peak_concurrent], [d.date, 'listening_hours', d.listening_hours]);
      }
    } else {
      answer.daily_downloads.forEach((d, i) => {
        out.push([d.date, 'downloads', d.downloads]);
        for (const e of answer.episodes) out.push([d.date, `downloads:${e.episode_id}`, e.daily_downloads[i]!.downloads]);
      });
    }
    return out;
  }

  /** Aggregates of one resource by day and metric (sub-ids summed). */
  private async daily(id: string, range: DayRange): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    for (const r of await repo.dailyOf(this.deps.db, id, range.from, range.to)) {
      let m = out.get(r.day);
      if (!m) out.set(r.day, (m = new Map()));
      m.set(r.metric, (m.get(r.metric) ?? 0) + Number(r.value));
    }
    return out;
  }
}

function sumOf(byDay: Map<string, Map<string, number>>, metric: string): number {
  let n = 0;
  for (const m of byDay.values()) n += m.get(metric) ?? 0;
  return n;
}

/**
 * The most sessions open at once, per resource: a sweep over starts and ends.
 * A session that ends the instant another starts counts as overlapping it
 * (starts sort first), so a session of zero length still counts as one.
 */
export function peakConcurrency(
  spans: readonly { resource_id: string; started_at: string; ended_at: string }[],
): Map<string, number> {
  const events = new Map<string, [number, number][]>();
  for (const s of spans) {
    let list = events.get(s.resource_id);
    if (!list) events.set(s.resource_id, (list = []));
    list.push([Date.parse(s.started_at), 1], [Date.parse(s.ended_at), -1]);
  }
  const peaks = new Map<string, number>();
  for (const [id, list] of events) {
    list.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let open = 0;
    let peak = 0;
    for (const [, delta] of list) {
      open += delta;
      if (open > peak) peak = open;
    }
    peaks.set(id, peak);
  }
  return peaks;
}
