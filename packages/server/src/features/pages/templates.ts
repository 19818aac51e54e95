// The listener pages and the embed as pure functions of plain data: every
// user string goes through `html`, which escapes it. Styles are inline (first
// content in one round trip) and hashed for the Content-Security-Policy;
// the only script is the player, loaded as a module after first paint.
//
// A podcast page is one more model (episodes, show notes, subscribe links)
// rendered into the same `documentShell` with the same <djcast-player>.

import { createHash } from 'node:crypto';
import sanitizeHtml from 'sanitize-html';
import { html, jsonAttr, trusted, type SafeHtml } from './html.js';
import type { PageKind } from './urls.js';

/** Which playback engine the player uses; `auto` picks native HLS, then hls.js (live) or stream.mp3 (playlists). */
export const ENGINES = ['auto', 'native', 'hls.js', 'mp3'] as const;
export type Engine = (typeof ENGINES)[number];

export type LiveState = 'inactive' | 'starting' | 'live' | 'reconnecting' | 'offline' | 'stopped';

export interface PlayerModel {
  kind: 'live' | 'playlist';
  hlsUrl: string;
  /** The continuous MP3 (playlists), for browsers without HLS. */
  mp3Url: string | null;
  /** The public now-playing JSON the player polls (live). */
  nowPlayingUrl: string | null;
  /** Track titles and lengths, so a playlist's player can say what is playing now. */
  tracks: { title: string; duration: number }[];
  engine: Engine;
}

export interface TrackRow {
  title: string;
  durationSeconds: number | null;
}

export interface EpisodeRow {
  id: string;
  title: string;
  /** Show notes: HTML, sanitized when stored; rendered through a stricter allowlist still. */
  notes: string;
  publishedAt: string | null;
  durationSeconds: number | null;
  /** The page with this episode in the player; null when the visitor gets no player. */
  playUrl: string | null;
  /** The episode the player holds. */
  current: boolean;
}

export interface PodcastSection {
  /** The podcast's description: HTML, sanitized when stored. */
  description: string;
  feedUrl: string;
  /** `podcast://<feed host and path>`: opens the feed in Apple Podcasts (and other apps that claim the scheme). */
  appleUrl: string;
  guid: string;
  /** The title of the episode in the player. */
  playing: string | null;
  /** Published episodes, newest first. */
  episodes: EpisodeRow[];
  /** A signed-in subscriber: the form that mints their own feed, and its URL the one time it is shown. */
  privateFeed?: PrivateFeed | undefined;
}

export interface PrivateFeed {
  /** Where the form posts (this page's `/personal-feed`). */
  action: string;
  csrf: string;
  /** The feed URL just minted (shown once), or null: the page shows the form. */
  url: string | null;
}

/** `podcast://<feed host and path>`: opens a feed in Apple Podcasts (and other apps that claim the scheme). */
export function appleFeedUrl(feedUrl: string): string {
  const feed = new URL(feedUrl);
  return `podcast://${feed.host}${feed.pathname}`;
}

export interface PageModel {
  kind: PageKind;
  id: string;
  title: string;
  /** The DJ's public display name, when they set one. */
  artist: string | null;
  /** One sentence for link previews. */
  summary: string;
  pageUrl: string;
  embedUrl: string;
  oembedUrl: string;
  artworkUrl: string | null;
  /** The artwork's pixel size, when known (oEmbed's thumbnail). */
  artworkSize?: { width: number; height: number } | undefined;
  /** Live streams: the state and track the page was rendered with (the player keeps them current). */
  live: { state: LiveState; currentTrack: string | null } | null;
  tracks: TrackRow[];
  /** `subscribers`: monetized and the visitor holds no grant, so the page says so and shows no player. */
  access: 'open' | 'subscribers' | 'granted';
  player: PlayerModel | null;
  /** Root-relative URLs of the versioned scripts. */
  assets: { player: string; hls: string };
  embedSnippet: string;
  /** Podcasts: the description, subscribe links and episodes. */
  podcast?: PodcastSection | undefined;
  /** Monetized content a visitor may not play: the DJ's plans that unlock it. */
  plans?: PagePlan[] | undefined;
}

/** A plan as a listener page shows it. */
export interface PagePlan {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  billing_interval: 'month' | 'year';
  features: string[];
}

/** "4.99 USD / month" (zero-decimal currencies such as JPY have no cents). */
export function formatPrice(plan: Pick<PagePlan, 'price_cents' | 'currency' | 'billing_interval'>): string {
  const zeroDecimal = [
    'BIF',
    'CLP',
    'DJF',
    'GNF',
    'JPY',
    'KMF',
    'KRW',
    'MGA',
    'PYG',
    'RWF',
    'UGX',
    'VND',
    'VUV',
    'XAF',
    'XOF',
    'XPF',
  ];
  const currency = plan.currency.toUpperCase();
  const amount = zeroDecimal.includes(currency) ? String(plan.price_cents) : (plan.price_cents / 100).toFixed(2);
  return `${amount} ${currency} / ${plan.billing_interval}`;
}

export const PAGE_CSS = `
:root{color-scheme:light dark;--fg:#16141f;--muted:#5b5870;--bg:#faf9fd;--card:#fff;--accent:#5a2ee6;--accent-fg:#fff;--line:#e4e1ee}
@media (prefers-color-scheme:dark){:root{--fg:#f1effa;--muted:#aaa6bf;--bg:#14121c;--card:#1f1c2b;--accent:#a78bfa;--accent-fg:#14121c;--line:#332f45}}
*{box-sizing:border-box}
html{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
body{margin:0;padding:16px;max-width:760px;margin-inline:auto}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
header.hero{display:flex;gap:16px;align-items:center;margin:8px 0 16px}
.art{flex:none;width:96px;height:96px;border-radius:12px;background:linear-gradient(135deg,var(--accent),#f472b6);display:grid;place-items:center;color:#fff;font-size:40px;font-weight:700;overflow:hidden}
.art img{width:100%;height:100%;object-fit:cover}
h1{font-size:1.6rem;line-height:1.2;margin:0;overflow-wrap:anywhere}
.by{margin:4px 0 0;color:var(--muted)}
.badge{display:inline-block;font-size:.75rem;font-weight:700;letter-spacing:.05em;text-transform:uppercase;padding:2px 8px;border-radius:99px;background:var(--line);color:var(--fg)}
.badge.live{background:#dc2626;color:#fff}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px;margin:16px 0}
djcast-player{display:block;min-height:72px}
.locked h2{margin-top:0;font-size:1.1rem}
ol.tracks{padding-left:1.5em;margin:0}
ol.tracks li{padding:4px 0;display:flex;justify-content:space-between;gap:8px}
ol.tracks .len{color:var(--muted);font-variant-numeric:tabular-nums}
.notes{overflow-wrap:anywhere}
.notes :first-child{margin-top:0}
.notes :last-child{margin-bottom:0}
ul.plans{list-style:none;padding:0;margin:8px 0 0;display:grid;gap:12px}
ul.plans .price{color:var(--muted)}
ul.subscribe{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:8px 16px}
.guid{color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}
.btn{display:inline-block;margin-top:6px;padding:6px 14px;border-radius:8px;border:0;background:var(--accent);color:var(--accent-fg);font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
form.auth label{display:block;margin:10px 0 2px}
form.auth input{width:100%;padding:8px;border:1px solid var(--line);border-radius:8px;font:inherit;background:var(--bg);color:var(--fg)}
.error{color:#dc2626;font-weight:600}
ol.episodes{list-style:none;padding:0;margin:0}
ol.episodes>li{padding:12px 0;border-top:1px solid var(--line)}
ol.episodes>li:first-child{border-top:0;padding-top:0}
ol.episodes h3{font-size:1rem;margin:0;overflow-wrap:anywhere}
ol.episodes .meta{color:var(--muted);font-size:.85rem;margin:2px 0 6px}
a.play{display:inline-block;font-weight:600;text-decoration:none;padding:2px 10px;border-radius:99px;border:1px solid var(--accent)}
li[aria-current] a.play{background:var(--accent);color:var(--accent-fg)}
details summary{cursor:pointer;font-weight:600}
textarea{width:100%;min-height:5.5em;font:13px/1.4 ui-monospace,monospace;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:8px;padding:8px}
footer{color:var(--muted);font-size:.85rem;margin-top:24px;overflow-wrap:anywhere}
body.embed{padding:0;max-width:none;background:transparent}
body.embed .card{margin:0;padding:12px;border-radius:12px}
body.embed .row{display:flex;gap:12px;align-items:center}
body.embed .art{width:56px;height:56px;font-size:24px;border-radius:8px}
body.embed h1{font-size:1rem}
body.embed .by{margin:0;font-size:.85rem}
body.embed .title{min-width:0;flex:1}
body.embed .title h1,body.embed .title p{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
body.embed djcast-player{margin-top:8px;min-height:56px}
`.trim();

/** The value for the CSP's style-src: the one inline stylesheet, by hash. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_CSS).digest('base64')}'`;

function documentShell(m: PageModel, opts: { bodyClass: string; robots: string }, body: SafeHtml): string {
  const description = m.summary;
  const card = m.artworkUrl ? 'summary_large_image' : 'summary';
  const ogType = m.kind === 'stream' ? 'music.radio_station' : m.kind === 'playlist' ? 'music.playlist' : 'website';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${m.title}${m.artist ? ` · ${m.artist}` : ''} · djcast</title>
<meta name="description" content="${description}">
<meta name="robots" content="${opts.robots}">
<link rel="icon" href="data:,">
<link rel="canonical" href="${m.pageUrl}">
<link rel="alternate" type="application/json+oembed" href="${m.oembedUrl}" title="${m.title}">
<meta property="og:type" content="${ogType}">
<meta property="og:site_name" content="djcast">
<meta property="og:title" content="${m.title}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${m.pageUrl}">
${m.artworkUrl ? html`<meta property="og:image" content="${m.artworkUrl}">\n` : ''}${m.player ? html`<meta property="og:audio" content="${m.player.hlsUrl}">\n` : ''}<meta name="twitter:card" content="${m.player ? 'player' : card}">
<meta name="twitter:title" content="${m.title}">
<meta name="twitter:description" content="${description}">
${m.artworkUrl ? html`<meta name="twitter:image" content="${m.artworkUrl}">\n` : ''}${
  m.player
    ? html`<meta name="twitter:player" content="${m.embedUrl}">
<meta name="twitter:player:width" content="480">
<meta name="twitter:player:height" content="152">
`
    : ''
}<style>${trusted(PAGE_CSS)}</style>
${m.player ? html`<script type="module" src="${m.assets.player}"></script>\n` : ''}</head>
<body class="${opts.bodyClass}">
${body}
</body>
</html>
`.value;
}

function artwork(m: PageModel): SafeHtml {
  if (m.artworkUrl) return html`<div class="art"><img src="${m.artworkUrl}" alt="" width="96" height="96"></div>`;
  const initial = (m.title.trim()[0] ?? '♪').toUpperCase();
  return html`<div class="art" aria-hidden="true">${initial}</div>`;
}

function liveBadge(m: PageModel): SafeHtml | '' {
  if (!m.live) return '';
  const live = m.live.state === 'live';
  return html`<span class="badge${live ? ' live' : ''}" data-role="live-badge">${live ? 'Live' : 'Offline'}</span> `;
}

/** The <djcast-player> element: everything it needs is in its attributes; its children show until the script runs. */
export function playerElement(m: PageModel, p: PlayerModel): SafeHtml {
  return html`<djcast-player kind="${p.kind}" src="${p.hlsUrl}"${p.mp3Url ? html` mp3-src="${p.mp3Url}"` : ''}${
    p.nowPlayingUrl ? html` now-playing-src="${p.nowPlayingUrl}"` : ''
  } hls-script="${m.assets.hls}" engine="${p.engine}" title="${m.title}"${
    m.live ? html` state="${m.live.state}"${m.live.currentTrack ? html` current="${m.live.currentTrack}"` : ''}` : ''
  }${p.tracks.length > 0 ? html` tracks="${jsonAttr(p.tracks)}"` : ''}>
<p><a href="${p.mp3Url ?? p.hlsUrl}">Listen to ${m.title} in your own player</a></p>
</djcast-player>`;
}

function lockedNotice(m: PageModel): SafeHtml {
  const what = m.kind === 'stream' ? 'stream' : m.kind === 'playlist' ? 'playlist' : 'podcast';
  const plans = m.plans ?? [];
  return html`<section class="card locked" data-role="subscription-required">
<h2>For subscribers</h2>
<p>This ${what} is for the DJ’s subscribers. Subscribe to a plan to listen; subscribers get a personal link from the DJ’s page.</p>
${
  plans.length > 0
    ? html`<ul class="plans">
${plans.map(
  (p) =>
    html`<li data-role="plan" data-plan-id="${p.id}"><strong>${p.name}</strong> <span class="price">${formatPrice(p)}</span>${
      p.features.length > 0 ? html` <span class="features">(${p.features.join(', ')})</span>` : ''
    }<br><a class="btn" data-role="subscribe" href="${subscribeUrl(m, p.id)}">Subscribe</a> or from a terminal: <code>djcast subscription create --plan ${p.id}</code></li>`,
)}
</ul>`
    : html`<p>The DJ has no plan on sale for it yet.</p>`
}
</section>`;
}

/** The web subscribe form for a plan, coming back to this page afterwards. */
export function subscribeUrl(m: Pick<PageModel, 'pageUrl'>, planId: string): string {
  const page = new URL(m.pageUrl);
  return `${page.origin}/subscribe?plan=${encodeURIComponent(planId)}&return=${encodeURIComponent(page.pathname)}`;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

function trackList(m: PageModel): SafeHtml | '' {
  if (m.tracks.length === 0) return '';
  return html`<section class="card" aria-labelledby="tracks-h">
<h2 id="tracks-h">Tracks</h2>
<ol class="tracks">
${m.tracks.map((t) => html`<li><span>${t.title}</span><span class="len">${formatDuration(t.durationSeconds)}</span></li>\n`)}</ol>
</section>`;
}

function nowPlaying(m: PageModel): SafeHtml | '' {
  if (!m.live) return '';
  return html`<p class="by">Now playing: <span data-role="now-playing">${m.live.currentTrack ?? '—'}</span></p>`;
}

/**
 * Show notes and a podcast's description are HTML, sanitized when stored;
 * on the page they pass a stricter allowlist still (text formatting, lists
 * and http(s) links, marked nofollow), so nothing else ever becomes markup.
 */
const NOTES_POLICY: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'b', 'strong', 'i', 'em', 'ul', 'ol', 'li', 'a'],
  allowedAttributes: { a: ['href', 'rel', 'target'] },
  allowedSchemes: ['http', 'https'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: {
        ...(attribs.href ? { href: attribs.href } : {}),
        rel: 'nofollow noopener ugc',
        target: '_blank',
      },
    }),
  },
};

export function showNotes(notes: string): SafeHtml {
  return trusted(sanitizeHtml(notes, NOTES_POLICY));
}

function formatDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

/** The subscribe links of a feed: the public one, or a subscriber's own (no `alternate`: it is nobody else's). */
function feedLinks(feedUrl: string, appleUrl: string, which: 'public' | 'private'): SafeHtml {
  return which === 'public'
    ? html`<ul class="subscribe">
<li><a href="${feedUrl}" rel="alternate" type="application/rss+xml" data-role="rss">RSS feed</a></li>
<li><a href="${appleUrl}" data-role="apple">Apple Podcasts</a></li>
</ul>`
    : html`<ul class="subscribe">
<li><a href="${feedUrl}" type="application/rss+xml" data-role="private-rss">RSS feed</a></li>
<li><a href="${appleUrl}" data-role="private-apple">Apple Podcasts</a></li>
</ul>`;
}

/** A subscriber's own feed: the form that mints it, or (once, right after) its URL and app links. */
function privateFeedSection(f: PrivateFeed): SafeHtml {
  return html`<section class="card" aria-labelledby="private-feed-h" data-role="private-feed">
<h2 id="private-feed-h">Your private feed</h2>
${
  f.url
    ? html`<p>Your own feed URL, shown only this once: add it to your podcast app and keep it to yourself. It stops playing when your subscription ends.</p>
<p><code data-role="private-feed-url">${f.url}</code></p>
${feedLinks(f.url, appleFeedUrl(f.url), 'private')}`
    : html`<p>Your subscription includes this podcast. Get a feed URL of your own for your podcast app.</p>
<form method="post" action="${f.action}"><input type="hidden" name="csrf" value="${f.csrf}"><button type="submit" class="btn">Get my private feed</button></form>`
}
</section>`;
}

function podcastSection(m: PageModel): SafeHtml | '' {
  const p = m.podcast;
  if (!p) return '';
  const episodes =
    p.episodes.length === 0
      ? html`<p>No episodes yet.</p>`
      : html`<ol class="episodes">
${p.episodes.map(
  (e) => html`<li data-episode="${e.id}"${e.current ? html` aria-current="true"` : ''}>
<h3>${e.title}</h3>
<p class="meta">${e.publishedAt ? html`<time datetime="${e.publishedAt}">${formatDate(e.publishedAt)}</time>` : ''}${
    e.durationSeconds ? ` · ${formatDuration(e.durationSeconds)}` : ''
  }</p>
${e.playUrl ? html`<p><a class="play" href="${e.playUrl}" aria-label="Play ${e.title}">${e.current ? 'In the player' : 'Play'}</a></p>\n` : ''}<div class="notes">${showNotes(e.notes)}</div>
</li>
`,
)}</ol>`;
  return html`<section class="card" aria-labelledby="about-h">
<h2 id="about-h">About</h2>
<div class="notes" data-role="description">${showNotes(p.description)}</div>
</section>
<section class="card" aria-labelledby="subscribe-h">
<h2 id="subscribe-h">Subscribe</h2>
${feedLinks(p.feedUrl, p.appleUrl, 'public')}
<p class="guid">podcast:guid <code data-role="guid">${p.guid}</code></p>
</section>
${p.privateFeed ? privateFeedSection(p.privateFeed) : ''}
<section class="card" aria-labelledby="episodes-h">
<h2 id="episodes-h">Episodes</h2>
${episodes}
</section>`;
}

/** The public page of a stream, playlist or podcast. */
export function renderPage(m: PageModel): string {
  const body = html`<main>
<header class="hero">
${artwork(m)}
<div>
<h1>${m.title}</h1>
<p class="by">${liveBadge(m)}${m.artist ? html`by ${m.artist}` : m.kind === 'stream' ? 'Live on djcast' : 'On djcast'}</p>
${nowPlaying(m)}
</div>
</header>
${m.podcast?.playing ? html`<p class="by">In the player: <span data-role="episode">${m.podcast.playing}</span></p>\n` : ''}${
  m.player
    ? html`<section class="card" id="player" aria-label="Player">${playerElement(m, m.player)}</section>`
    : m.podcast && m.access !== 'subscribers'
      ? ''
      : lockedNotice(m)
}
${trackList(m)}
${podcastSection(m)}
${
  m.access === 'open'
    ? html`<section class="card">
<details>
<summary>Embed this ${m.kind} on your site</summary>
<p><label for="embed-code">Paste this into your page:</label></p>
<textarea id="embed-code" readonly>${m.embedSnippet}</textarea>
<p><a href="${m.embedUrl}">Open the embed</a></p>
</details>
</section>`
    : ''
}
</main>
<footer><a href="${m.pageUrl}">${m.pageUrl}</a> · Powered by djcast</footer>`;
  return documentShell(m, { bodyClass: 'page', robots: m.access === 'granted' ? 'noindex' : 'index,follow' }, body);
}

/** The compact page an iframe shows on someone else's site. */
export function renderEmbed(m: PageModel): string {
  const body = html`<main class="card">
<div class="row">
${artwork(m)}
<div class="title">
<h1><a href="${m.pageUrl}" target="_blank" rel="noopener">${m.title}</a></h1>
<p class="by">${liveBadge(m)}${m.artist ?? ''}</p>
</div>
</div>
${
  m.player
    ? playerElement(m, m.player)
    : m.podcast && m.access !== 'subscribers'
      ? html`<p>No episodes yet: <a href="${m.pageUrl}" target="_blank" rel="noopener">see the podcast on djcast</a>.</p>`
      : html`<p data-role="subscription-required">For subscribers: <a href="${m.pageUrl}" target="_blank" rel="noopener">listen on djcast</a>.</p>`
}
</main>`;
  return documentShell(m, { bodyClass: 'embed', robots: 'noindex' }, body);
}

/** What a missing or private page answers (the same for both, so a private id is not confirmed). */
export function renderNotFound(): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>Not found · djcast</title>
<style>${trusted(PAGE_CSS)}</style>
</head>
<body class="page"><main><h1>Nothing to listen to here</h1><p>This page does not exist or is not public.</p></main></body>
</html>
`.value;
}
