// What `djcast analytics …` shows for each kind of resource, built from the
// API's answer (pure: tested without a terminal).
import type { AdAnalytics, PlaylistAnalytics, PodcastAnalytics, StreamAnalytics } from '@djcast/sdk';
import type { DailySeries } from '../ui/analytics-views.js';

export function streamView(a: StreamAnalytics): DailySeries {
  return {
    summary: [
      ['current listeners', a.current_as_of ? `${a.current_listeners} (heartbeat ${a.current_as_of})` : a.current_listeners],
      ['peak listeners', a.peak_listeners],
      ['listening hours', a.total_listening_hours],
    ],
    columns: ['date', 'unique listeners', 'peak concurrent', 'listening hours'],
    rows: a.daily_listeners.map((d) => [d.date, d.unique_listeners, d.peak_concurrent, d.listening_hours]),
    chart: { label: 'unique listeners', values: a.daily_listeners.map((d) => d.unique_listeners) },
  };
}

export function playlistView(a: PlaylistAnalytics): DailySeries {
  return {
    summary: [
      ['total plays', a.total_plays],
      ['peak listeners', a.peak_listeners],
      ['listening hours', a.total_listening_hours],
    ],
    columns: ['date', 'plays', 'unique listeners', 'peak concurrent', 'listening hours'],
    rows: a.play_count.map((d) => [d.date, d.plays, d.unique_listeners, d.peak_concurrent, d.listening_hours]),
    chart: { label: 'plays', values: a.play_count.map((d) => d.plays) },
  };
}

export function podcastView(a: PodcastAnalytics): DailySeries {
  return {
    summary: [
      ['total downloads', a.total_downloads],
      ...a.episodes.map((e): [string, number] => [`  ${e.episode_id}`, e.total_downloads]),
    ],
    columns: ['date', 'downloads'],
    rows: a.daily_downloads.map((d) => [d.date, d.downloads]),
    chart: { label: 'downloads', values: a.daily_downloads.map((d) => d.downloads) },
  };
}

/** A completion rate as a percentage with one decimal; a dash without impressions. */
export const percent = (rate: number | null): string => (rate === null ? '–' : `${Math.round(rate * 1000) / 10}%`);

export function adsView(a: AdAnalytics): DailySeries {
  return {
    summary: [
      ['impressions', a.impressions],
      ['completions', a.completions],
      ['completion rate', percent(a.completion_rate)],
      ...a.markers.map((m): [string, string] => [
        `  ${m.marker_id}`,
        `${m.impressions} impressions, ${m.completions} completed (${percent(m.completion_rate)})`,
      ]),
    ],
    columns: ['date', 'impressions', 'completions', 'completion rate'],
    rows: a.daily.map((d) => [d.date, d.impressions, d.completions, percent(d.completion_rate)]),
    chart: { label: 'impressions', values: a.daily.map((d) => d.impressions) },
  };
}
