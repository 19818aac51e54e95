// The feed builder as data: what two independent parsers (podcast-partytime,
// rss-parser) and the shared validator read back from it, with hostile
// strings in every user field, and at 1000 episodes.

import { validatePodcastFeed } from '@djcast/sdk';
import { parseFeed } from 'podcast-partytime';
import Parser from 'rss-parser';
import { describe, expect, it } from 'vitest';
import { podcastGuid } from './podcast-guid.js';
import { buildFeed, cdata, text, type FeedEpisode, type FeedInput } from './rss.js';

const FEED_URL = 'https://djcast.example/podcasts/pod_01jd0v9m3x7k2p8q4r5s6t7u8v/rss.xml';

function episode(i: number, overrides: Partial<FeedEpisode> = {}): FeedEpisode {
  return {
    guid: `7c0f6f64-0000-4000-8000-${String(i).padStart(12, '0')}`,
    title: `Episode ${i}`,
    description: `<p>Notes for ${i}</p>`,
    publishedAt: new Date(Date.UTC(2026, 0, 1) + i * 86_400_000),
    enclosure: { url: `https://djcast.example/podcasts/pod_x/episodes/epi_${i}/media.mp3`, length: 1000 + i, type: 'audio/mpeg' },
    durationSeconds: 3600 + i,
    season: 1,
    episode: i,
    episodeType: 'full',
    explicit: null,
    chaptersUrl: null,
    ...overrides,
  };
}

function input(overrides: Partial<FeedInput> = {}): FeedInput {
  return {
    feedUrl: FEED_URL,
    podcast: {
      title: 'Warehouse Sessions',
      description: '<p>Weekly sets</p>',
      author: 'DJ Nul',
      ownerEmail: 'nul@example.com',
      language: 'en',
      category: 'Music',
      subcategory: 'Music Commentary',
      explicit: true,
      type: 'episodic',
      locked: true,
      link: 'https://djcast.example/c/pod_x',
      imageUrl: 'https://djcast.example/podcasts/artwork/art_x.jpg',
    },
    episodes: [episode(1)],
    builtAt: new Date('2026-06-01T12:00:00Z'),
    ...overrides,
  };
}

const rssParser = new Parser<Record<string, unknown>, { 'itunes:explicit'?: string }>({
  customFields: { item: ['itunes:explicit'] },
});

describe('podcast:guid', () => {
  it('is the UUIDv5 the Podcasting 2.0 spec gives for its own example feed', () => {
    expect(podcastGuid('https://mp3s.nashownotes.com/pc20rss.xml')).toBe('917393e3-1b1e-5cef-ace4-edaa54e1f810');
    expect(podcastGuid('http://mp3s.nashownotes.com/pc20rss.xml/')).toBe('917393e3-1b1e-5cef-ace4-edaa54e1f810');
  });
});

describe('buildFeed', () => {
  it('writes every required RSS 2.0, iTunes and Podcasting 2.0 tag with the right value', async () => {
    const xml = buildFeed(input({ episodes: [episode(1, { explicit: false, chaptersUrl: 'https://djcast.example/ch.json' })] }));
    const feed = parseFeed(xml, { allowMissingGuid: false })!;
    expect(feed).toMatchObject({
      title: 'Warehouse Sessions',
      link: 'https://djcast.example/c/pod_x',
      language: 'en',
      explicit: true,
      author: 'DJ Nul',
      owner: { name: 'DJ Nul', email: 'nul@example.com' },
      itunesImage: 'https://djcast.example/podcasts/artwork/art_x.jpg',
      itunesType: 'episodic',
      guid: podcastGuid(FEED_URL),
      locked: true,
      podcastOwner: 'nul@example.com',
    });
    expect(feed.itunesCategory).toEqual(['Music > Music Commentary']);
    expect(xml).toContain('<itunes:explicit>yes</itunes:explicit>');
    expect(xml).toContain('<itunes:explicit>no</itunes:explicit>');
    const item = feed.items[0]!;
    expect(item).toMatchObject({ title: 'Episode 1', guid: episode(1).guid, duration: 3601, itunesSeason: 1, itunesEpisode: 1 });
    expect(item.enclosure).toEqual({ url: episode(1).enclosure.url, length: 1001, type: 'audio/mpeg' });
    expect(item.podcastChapters).toMatchObject({ url: 'https://djcast.example/ch.json', type: 'application/json+chapters' });
    const rss = await rssParser.parseString(xml);
    expect(rss.items[0]).toMatchObject({ title: 'Episode 1', guid: episode(1).guid, 'itunes:explicit': 'no' });
    expect((await validatePodcastFeed(xml, { feedUrl: FEED_URL })).problems).toEqual([]);
  });

  it('carries a live set as podcast:liveItem with the HLS stream as its enclosure', () => {
    const start = new Date('2026-06-01T20:00:00Z');
    const xml = buildFeed(
      input({
        liveItems: [
          {
            guid: 'live-1',
            title: 'Live now',
            status: 'live',
            start,
            end: null,
            streamUrl: 'https://djcast.example/streams/str_x/live.m3u8',
          },
        ],
      }),
    );
    const feed = parseFeed(xml)!;
    expect(feed.podcastLiveItems).toHaveLength(1);
    expect(feed.podcastLiveItems![0]).toMatchObject({ status: 'live', title: 'Live now', start });
  });

  const HOSTILE = 'Rock & <Roll> "Live" \'quoted\' ]]> <![CDATA[ x ]]>\u0001\u0008\u000B\u001F\uFFFE end';
  const CLEANED = 'Rock & <Roll> "Live" \'quoted\' ]]> <![CDATA[ x ]]> end';

  it('keeps hostile strings in every user field intact and the document well-formed (both parsers, the validator)', async () => {
    const xml = buildFeed(
      input({
        podcast: {
          ...input().podcast,
          title: HOSTILE,
          description: HOSTILE,
          author: HOSTILE,
          ownerEmail: `a&b"<>@example.com`,
          category: 'Kids & Family',
          subcategory: 'Pets & Animals',
          link: 'https://djcast.example/c/pod_x?a=1&b=<2>',
        },
        episodes: [episode(1, { title: HOSTILE, description: HOSTILE, guid: `g&<>"${HOSTILE}` })],
      }),
    );
    const report = await validatePodcastFeed(xml, { feedUrl: FEED_URL });
    expect(report.problems).toEqual([]);
    const feed = parseFeed(xml)!;
    expect(feed.title).toBe(CLEANED);
    expect(feed.author).toBe(CLEANED);
    expect(feed.itunesCategory).toEqual(['Kids & Family > Pets & Animals']);
    expect(feed.owner?.email).toBe('a&b"<>@example.com');
    expect(feed.items[0]!.title).toBe(CLEANED);
    expect(feed.items[0]!.guid).toBe(`g&<>"${CLEANED}`);
    const rss = await rssParser.parseString(xml);
    expect(rss.title).toBe(CLEANED);
    expect(rss.description).toBe(CLEANED);
    expect(rss.items[0]!.title).toBe(CLEANED);
    expect(rss.items[0]!.content).toBe(CLEANED);
    expect(rss.link).toBe('https://djcast.example/c/pod_x?a=1&b=<2>');
  });

  it('escapes text and splits CDATA so nothing a user writes can close it', () => {
    expect(text('a&b<c>"d\'\u0000')).toBe('a&amp;b&lt;c&gt;&quot;d&apos;');
    expect(cdata('x]]>y')).toBe('<![CDATA[x]]]]><![CDATA[>y]]>');
    expect(text('\uD800 lone')).toBe(' lone');
  });

  it('lists 1000 episodes, every one read back by both parsers with its own guid and enclosure', async () => {
    const episodes = Array.from({ length: 1000 }, (_, i) => episode(1000 - i));
    const started = performance.now();
    const xml = buildFeed(input({ episodes }));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2000);
    const feed = parseFeed(xml)!;
    expect(feed.items).toHaveLength(1000);
    expect(new Set(feed.items.map((i) => i.guid)).size).toBe(1000);
    expect(feed.items[999]!.enclosure.length).toBe(1001);
    const rss = await rssParser.parseString(xml);
    expect(rss.items).toHaveLength(1000);
    const report = await validatePodcastFeed(xml, { feedUrl: FEED_URL });
    expect(report).toMatchObject({ problems: [], items: 1000 });
  });
});

describe('validatePodcastFeed', () => {
  it('names each problem: a broken document, a wrong guid, a duplicate item guid, a bad enclosure', async () => {
    expect((await validatePodcastFeed('<rss><channel>')).problems[0]!.path).toBe('document');
    const xml = buildFeed(
      input({ episodes: [episode(1), episode(1, { enclosure: { url: 'ftp://x', length: 0, type: 'text/html' } })] }),
    );
    const report = await validatePodcastFeed(xml, { feedUrl: 'https://elsewhere.example/feed.xml' });
    expect(report.problems.map((p) => p.path)).toEqual([
      'channel.podcast:guid',
      'item[1].guid',
      'item[1].enclosure',
      'item[1].enclosure',
      'item[1].enclosure',
    ]);
    expect(report.problems.every((p) => p.level === 'error')).toBe(true);
  });
});
