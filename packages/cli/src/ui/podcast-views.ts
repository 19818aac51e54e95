// Which fields of podcasts and episodes the human output shows, in order.
import type { Episode, Podcast, PodcastFeedToken } from '@djcast/sdk';
import type { Column, Field } from './format.js';

export const PODCAST_FIELDS: Field<Podcast>[] = [
  { header: 'id', get: (p) => p.id },
  { header: 'title', get: (p) => p.title },
  { header: 'author', get: (p) => p.author },
  { header: 'category', get: (p) => (p.subcategory ? `${p.category} > ${p.subcategory}` : p.category) },
  { header: 'explicit', get: (p) => (p.explicit ? 'yes' : 'no') },
  { header: 'visibility', get: (p) => p.visibility },
  { header: 'monetization', get: (p) => (p.monetization_enabled ? 'on' : 'off') },
  { header: 'episodes', get: (p) => p.episode_count },
  { header: 'feed', get: (p) => p.feed_url },
  { header: 'page', get: (p) => p.page_url },
  { header: 'created', get: (p) => p.created_at },
];

export const PODCAST_COLUMNS: Column<Podcast>[] = [
  { header: 'id', get: (p) => p.id },
  { header: 'title', get: (p) => p.title },
  { header: 'episodes', get: (p) => p.episode_count },
  { header: 'feed', get: (p) => p.feed_url },
];

export const EPISODE_FIELDS: Field<Episode>[] = [
  { header: 'id', get: (e) => e.id },
  { header: 'podcast', get: (e) => e.podcast_id },
  { header: 'title', get: (e) => e.title },
  { header: 'status', get: (e) => e.status },
  { header: 'published', get: (e) => e.published_at },
  { header: 'guid', get: (e) => e.guid },
  { header: 'enclosure', get: (e) => `${e.enclosure.url} (${e.enclosure.length} bytes, ${e.enclosure.type})` },
  { header: 'feed', get: (e) => e.feed_url },
];

export const EPISODE_COLUMNS: Column<Episode>[] = [
  { header: 'id', get: (e) => e.id },
  { header: 'title', get: (e) => e.title },
  { header: 'status', get: (e) => e.status },
  { header: 'published', get: (e) => e.published_at },
];

export const FEED_TOKEN_FIELDS: Field<PodcastFeedToken>[] = [
  { header: 'id', get: (t) => t.id },
  { header: 'listener', get: (t) => t.user_id },
  { header: 'feed', get: (t) => t.feed_url },
];
