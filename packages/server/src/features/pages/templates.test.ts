import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from './html.js';
import { renderEmbed, renderPage, type PageModel } from './templates.js';
import { embedSnippet, parsePageUrl } from './urls.js';

const BASE = 'https://djcast.example';

function model(
  user: { title: string; artist: string; track: string; current: string },
  access: PageModel['access'] = 'open',
): PageModel {
  return {
    kind: 'stream',
    id: 'str_01jd0v9m3x7k2p8q4r5s6t7u8v',
    title: user.title,
    artist: user.artist,
    summary: `${user.title} by ${user.artist}`,
    pageUrl: `${BASE}/s/str_01jd0v9m3x7k2p8q4r5s6t7u8v`,
    embedUrl: `${BASE}/embed/s/str_01jd0v9m3x7k2p8q4r5s6t7u8v`,
    oembedUrl: `${BASE}/oembed?format=json&url=x`,
    artworkUrl: null,
    live: { state: 'live', currentTrack: user.current },
    tracks: [{ title: user.track, durationSeconds: 61 }],
    access,
    player:
      access === 'subscribers'
        ? null
        : {
            kind: 'live',
            hlsUrl: `${BASE}/streams/str_01jd0v9m3x7k2p8q4r5s6t7u8v/live.m3u8`,
            mp3Url: null,
            nowPlayingUrl: `${BASE}/streams/str_01jd0v9m3x7k2p8q4r5s6t7u8v/now-playing.json`,
            tracks: [{ title: user.track, duration: 61 }],
            engine: 'auto',
          },
    assets: { player: '/assets/player.0123456789ab.js', hls: '/assets/hls.0123456789ab.mjs' },
    embedSnippet: embedSnippet(BASE, 'stream', 'str_01jd0v9m3x7k2p8q4r5s6t7u8v', user.title),
  };
}

/** The document's structure: every tag and every attribute quote. User text may change neither. */
const structure = (doc: string) => ({
  tags: [...doc.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[0]),
  quotes: (doc.match(/"/g) ?? []).length,
});

describe('page templates', () => {
  it('escape every user string: no title, name or track can add a tag or leave an attribute', () => {
    const plain = { title: 'x', artist: 'x', track: 'x', current: 'x' };
    for (const render of [renderPage, renderEmbed]) {
      const expected = structure(render(model(plain)));
      fc.assert(
        fc.property(
          fc.record({
            title: fc.string({ minLength: 1 }),
            artist: fc.string({ minLength: 1 }),
            track: fc.string({ minLength: 1 }),
            current: fc.string({ minLength: 1 }),
          }),
          (user) => {
            // The snippet shows on the page as text; its own markup is escaped with it.
            expect(structure(render(model(user)))).toEqual(expected);
          },
        ),
        { numRuns: 300 },
      );
    }
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(1)>';
    const page = renderPage(model({ title: hostile, artist: hostile, track: hostile, current: hostile }));
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain(escapeHtml(hostile));
  });

  it('a monetized page says subscribe and loads no script at all', () => {
    const page = renderPage(model({ title: 'Paid', artist: 'DJ', track: 't', current: 'c' }, 'subscribers'));
    expect(page).toContain('data-role="subscription-required"');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<djcast-player');
    expect(page).not.toContain('Embed this');
  });

  it('html`` escapes values and passes nested markup through', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"q"'}">${inner}${['<', html`<br>`]}</p>`.value).toBe(
      '<p title="&quot;q&quot;"><b>&lt;i&gt;</b>&lt;<br></p>',
    );
  });

  it('parses only its own page and embed URLs', () => {
    const id = 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v';
    expect(parsePageUrl(BASE, `${BASE}/p/${id}`)).toEqual({ kind: 'playlist', id });
    expect(parsePageUrl(BASE, `${BASE}/embed/p/${id}/`)).toEqual({ kind: 'playlist', id });
    expect(parsePageUrl(BASE, `${BASE}/s/${id}`)).toBeNull();
    expect(parsePageUrl(BASE, `https://evil.example/p/${id}`)).toBeNull();
    expect(parsePageUrl(BASE, `${BASE}/p/${id}/extra`)).toBeNull();
    expect(parsePageUrl(`${BASE}/radio`, `${BASE}/radio/p/${id}`)).toEqual({ kind: 'playlist', id });
    expect(parsePageUrl(BASE, 'not a url')).toBeNull();
  });
});
