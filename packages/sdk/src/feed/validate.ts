// Checks a podcast feed against the rules podcast apps apply: RSS 2.0, the
// iTunes tags Apple requires, the Podcasting 2.0 guid, and each episode's
// guid and enclosure. The server's tests and `djcast feed validate` both use
// it, so "valid" means the same thing in CI and in the test suite.

import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface FeedProblem {
  /** `error`: apps reject or mis-read the feed. `warning`: a directory (Apple) would ask for a fix. */
  level: 'error' | 'warning';
  /** Where: `channel`, `channel.itunes:image`, `item[3].enclosure`, … */
  path: string;
  message: string;
}

export interface FeedReport {
  problems: FeedProblem[];
  /** Counts, for a summary line. */
  items: number;
  title: string | null;
}

/** The Podcasting 2.0 namespace for podcast:guid (UUIDv5). */
const PODCAST_GUID_NAMESPACE = 'ead4c236-bf58-58c6-a2c6-a6b28d128cb6';
const ITUNES_NS = 'http://www.itunes.com/dtds/podcast-1.0.dtd';
const PODCAST_NS = 'https://podcastindex.org/namespace/1.0';
const EXPLICIT_VALUES = new Set(['yes', 'no', 'true', 'false', 'clean']);

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'item' || name === 'itunes:category',
  processEntities: true,
  htmlEntities: false,
});

function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && '#text' in (value as Node)) return String((value as Node)['#text']);
  if (typeof value === 'object') return '';
  return String(value);
}

/** podcast:guid as the spec derives it: UUIDv5 of the feed URL without scheme and trailing slashes. */
export async function podcastGuidFor(feedUrl: string): Promise<string> {
  const name = feedUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  const ns = PODCAST_GUID_NAMESPACE.replace(/-/g, '')
    .match(/../g)!
    .map((h) => Number.parseInt(h, 16));
  const data = new Uint8Array([...ns, ...new TextEncoder().encode(name)]);
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-1', data)).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Validates a feed document. `feedUrl` is where it was fetched from: the
 * podcast:guid must derive from it (pass the public feed URL for a personal feed).
 */
export async function validatePodcastFeed(xml: string, options: { feedUrl?: string } = {}): Promise<FeedReport> {
  const problems: FeedProblem[] = [];
  const error = (path: string, message: string) => problems.push({ level: 'error', path, message });
  const warning = (path: string, message: string) => problems.push({ level: 'warning', path, message });

  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) {
    error('document', `not well-formed XML: ${wellFormed.err.msg} (line ${wellFormed.err.line})`);
    return { problems, items: 0, title: null };
  }
  const doc = parser.parse(xml) as Node;
  const rss = doc.rss as Node | undefined;
  if (!rss) {
    error('document', 'the root element is not <rss>');
    return { problems, items: 0, title: null };
  }
  if (rss['@version'] !== '2.0') error('rss', `version is ${String(rss['@version'] ?? 'missing')}, not 2.0`);
  if (rss['@xmlns:itunes'] !== ITUNES_NS) error('rss', `the itunes namespace is not declared as ${ITUNES_NS}`);
  if (rss['@xmlns:podcast'] !== PODCAST_NS) warning('rss', `the podcast namespace is not declared as ${PODCAST_NS}`);
  const channel = rss.channel as Node | undefined;
  if (!channel || typeof channel !== 'object') {
    error('rss', 'no <channel>');
    return { problems, items: 0, title: null };
  }

  const title = textOf(channel.title);
  for (const tag of ['title', 'link', 'description', 'language', 'itunes:author']) {
    if (!textOf(channel[tag])) error(`channel.${tag}`, `<${tag}> is missing or empty`);
  }
  const image = channel['itunes:image'] as Node | undefined;
  if (!image?.['@href']) warning('channel.itunes:image', 'no artwork: Apple Podcasts requires a 1400-3000 px square image');
  const categories = (channel['itunes:category'] as Node[] | undefined) ?? [];
  if (categories.length === 0 || !categories[0]?.['@text'])
    error('channel.itunes:category', '<itunes:category text="…"> is missing');
  const explicit = textOf(channel['itunes:explicit']);
  if (explicit === null) error('channel.itunes:explicit', '<itunes:explicit> is missing');
  else if (!EXPLICIT_VALUES.has(explicit)) error('channel.itunes:explicit', `"${explicit}" is not yes, no, true or false`);

  const guid = textOf(channel['podcast:guid']);
  if (!guid) warning('channel.podcast:guid', '<podcast:guid> is missing');
  else if (!/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(guid))
    error('channel.podcast:guid', `"${guid}" is not a version 5 UUID`);
  else if (options.feedUrl) {
    const expected = await podcastGuidFor(options.feedUrl);
    if (guid !== expected) error('channel.podcast:guid', `is ${guid}; derived from ${options.feedUrl} it is ${expected}`);
  }

  const items = (channel.item as Node[] | undefined) ?? [];
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const at = `item[${index}]`;
    if (!textOf(item.title)) error(`${at}.title`, '<title> is missing or empty');
    const itemGuid = textOf(item.guid);
    if (!itemGuid) error(`${at}.guid`, '<guid> is missing');
    else if (seen.has(itemGuid)) error(`${at}.guid`, `"${itemGuid}" is also the guid of item[${seen.get(itemGuid)}]`);
    else seen.set(itemGuid, index);
    const pubDate = textOf(item.pubDate);
    if (!pubDate || Number.isNaN(Date.parse(pubDate))) error(`${at}.pubDate`, `"${pubDate ?? ''}" is not a date`);
    const enclosure = item.enclosure as Node | undefined;
    if (!enclosure) error(`${at}.enclosure`, '<enclosure> is missing');
    else {
      const url = String(enclosure['@url'] ?? '');
      if (!/^https?:\/\/[^\s]+$/.test(url)) error(`${at}.enclosure`, `url "${url}" is not an http(s) URL`);
      const length = String(enclosure['@length'] ?? '');
      if (!/^\d+$/.test(length) || Number(length) <= 0)
        error(`${at}.enclosure`, `length "${length}" is not a positive byte count`);
      const type = String(enclosure['@type'] ?? '');
      if (!/^(audio|video)\/[\w.+-]+$/.test(type)) error(`${at}.enclosure`, `type "${type}" is not an audio or video type`);
    }
    const itemExplicit = textOf(item['itunes:explicit']);
    if (itemExplicit !== null && !EXPLICIT_VALUES.has(itemExplicit))
      error(`${at}.itunes:explicit`, `"${itemExplicit}" is not yes, no, true or false`);
    const duration = textOf(item['itunes:duration']);
    if (duration !== null && !/^(\d+|\d{1,2}:\d{2}(:\d{2})?)$/.test(duration))
      error(`${at}.itunes:duration`, `"${duration}" is not seconds or HH:MM:SS`);
  });
  return { problems, items: items.length, title };
}
