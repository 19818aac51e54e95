// The podcast feed, built as data: RSS 2.0 with the iTunes, Podcasting 2.0,
// content and atom namespaces. Pure (no clock, no I/O): the service hands it
// everything, including the enclosure URLs (signed or not) and the build
// time. Every user string goes through `text()` or `cdata()`, so no title,
// description or name can break the document.

import { podcastGuid } from './podcast-guid.js';

export interface FeedPodcast {
  title: string;
  /** Sanitized HTML. */
  description: string;
  author: string;
  ownerEmail: string | null;
  language: string;
  category: string;
  subcategory: string | null;
  explicit: boolean;
  type: 'episodic' | 'serial';
  locked: boolean;
  /** The site a listener visits. */
  link: string;
  imageUrl: string | null;
}

export interface FeedEnclosure {
  url: string;
  length: number;
  type: string;
}

export interface FeedEpisode {
  guid: string;
  title: string;
  /** Sanitized HTML. */
  description: string;
  publishedAt: Date;
  enclosure: FeedEnclosure;
  durationSeconds: number | null;
  season: number | null;
  episode: number | null;
  episodeType: 'full' | 'trailer' | 'bonus';
  /** Null: as the podcast. */
  explicit: boolean | null;
  /** podcast:chapters JSON, when the episode has chapters. */
  chaptersUrl: string | null;
}

/** A live set in progress (podcast:liveItem). */
export interface FeedLiveItem {
  guid: string;
  title: string;
  status: 'pending' | 'live' | 'ended';
  start: Date;
  end: Date | null;
  /** The live stream (HLS), as the enclosure and as an alternate enclosure. */
  streamUrl: string;
}

export interface FeedInput {
  /** The URL this document is served at (atom:link rel=self, and the source of podcast:guid). */
  feedUrl: string;
  /** Where podcast:guid derives from when it is not `feedUrl` (a personal feed carries the public feed's guid). */
  guidSourceUrl?: string;
  podcast: FeedPodcast;
  /** Newest first. */
  episodes: readonly FeedEpisode[];
  liveItems?: readonly FeedLiveItem[];
  builtAt: Date;
  generator?: string;
}

const NAMESPACES = {
  'xmlns:itunes': 'http://www.itunes.com/dtds/podcast-1.0.dtd',
  'xmlns:podcast': 'https://podcastindex.org/namespace/1.0',
  'xmlns:content': 'http://purl.org/rss/1.0/modules/content/',
  'xmlns:atom': 'http://www.w3.org/2005/Atom',
};

// Characters XML 1.0 does not allow at all (C0 controls but tab, LF, CR; U+FFFE/FFFF; lone surrogates).
const INVALID_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A user string as XML character data or an attribute value. */
export function text(value: string): string {
  return value
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A user string inside CDATA: `]]>` is split across two sections so it cannot close the first. */
export function cdata(value: string): string {
  return `<![CDATA[${value.replace(INVALID_XML, '').replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

function attrs(values: Record<string, string | number | null | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => ` ${k}="${text(String(v))}"`)
    .join('');
}

function el(
  name: string,
  value: string | number | null | undefined,
  attributes: Record<string, string | number | null> = {},
): string {
  if (value === null || value === undefined) return '';
  return `<${name}${attrs(attributes)}>${text(String(value))}</${name}>`;
}

/** `itunes:duration` as whole seconds (Apple accepts seconds or HH:MM:SS). */
const duration = (seconds: number | null) => (seconds === null ? null : Math.max(0, Math.round(seconds)));

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export function buildFeed(input: FeedInput): string {
  const { podcast: p } = input;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<rss version="2.0"${attrs(NAMESPACES)}>`);
  out.push('<channel>');
  out.push(el('title', p.title));
  out.push(el('link', p.link));
  out.push(`<description>${cdata(p.description)}</description>`);
  out.push(el('language', p.language));
  out.push(el('generator', input.generator ?? 'djcast'));
  out.push(el('lastBuildDate', input.builtAt.toUTCString()));
  out.push(`<atom:link${attrs({ href: input.feedUrl, rel: 'self', type: 'application/rss+xml' })}/>`);
  out.push(el('itunes:author', p.author));
  out.push(`<itunes:summary>${cdata(p.description)}</itunes:summary>`);
  out.push(el('itunes:type', p.type));
  out.push(el('itunes:explicit', yesNo(p.explicit)));
  if (p.ownerEmail) out.push(`<itunes:owner>${el('itunes:name', p.author)}${el('itunes:email', p.ownerEmail)}</itunes:owner>`);
  if (p.imageUrl) {
    out.push(`<itunes:image${attrs({ href: p.imageUrl })}/>`);
    out.push(`<image>${el('url', p.imageUrl)}${el('title', p.title)}${el('link', p.link)}</image>`);
  }
  out.push(
    p.subcategory
      ? `<itunes:category${attrs({ text: p.category })}><itunes:category${attrs({ text: p.subcategory })}/></itunes:category>`
      : `<itunes:category${attrs({ text: p.category })}/>`,
  );
  out.push(el('podcast:guid', podcastGuid(input.guidSourceUrl ?? input.feedUrl)));
  out.push(el('podcast:locked', yesNo(p.locked), p.ownerEmail ? { owner: p.ownerEmail } : {}));
  for (const live of input.liveItems ?? []) out.push(liveItem(live));
  for (const episode of input.episodes) out.push(item(episode));
  out.push('</channel>');
  out.push('</rss>');
  return `${out.filter(Boolean).join('\n')}\n`;
}

function item(e: FeedEpisode): string {
  const parts = [
    el('title', e.title),
    `<description>${cdata(e.description)}</description>`,
    `<content:encoded>${cdata(e.description)}</content:encoded>`,
    el('guid', e.guid, { isPermaLink: 'false' }),
    el('pubDate', e.publishedAt.toUTCString()),
    `<enclosure${attrs({ url: e.enclosure.url, length: e.enclosure.length, type: e.enclosure.type })}/>`,
    el('itunes:title', e.title),
    el('itunes:duration', duration(e.durationSeconds)),
    el('itunes:season', e.season),
    el('itunes:episode', e.episode),
    el('itunes:episodeType', e.episodeType),
    e.explicit === null ? '' : el('itunes:explicit', yesNo(e.explicit)),
    e.chaptersUrl ? `<podcast:chapters${attrs({ url: e.chaptersUrl, type: 'application/json+chapters' })}/>` : '',
  ];
  return `<item>${parts.filter(Boolean).join('')}</item>`;
}

function liveItem(l: FeedLiveItem): string {
  const parts = [
    el('title', l.title),
    el('guid', l.guid, { isPermaLink: 'false' }),
    `<enclosure${attrs({ url: l.streamUrl, length: 0, type: 'application/x-mpegURL' })}/>`,
    `<podcast:alternateEnclosure${attrs({ type: 'application/x-mpegURL', default: 'true' })}><podcast:source${attrs({ uri: l.streamUrl })}/></podcast:alternateEnclosure>`,
  ];
  const attributes = { status: l.status, start: l.start.toISOString(), end: l.end ? l.end.toISOString() : null };
  return `<podcast:liveItem${attrs(attributes)}>${parts.join('')}</podcast:liveItem>`;
}
