// The listener pages (/s/{id}, /p/{id}, /c/{id}), their embeds (/embed/s|p|c/{id}),
// oEmbed, the public now-playing JSON the player polls, and the player's
// versioned scripts. Public, unversioned URLs: people share them for years.

import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { NotFound } from '../../core/errors.js';
import type { App, AppEnv } from '../../http/env.js';
import { json, publicRoute } from '../../http/openapi.js';
import { answerPlaybackPreflight, playbackCaching, playbackRoute } from '../../http/playback-policy.js';
import { playbackCredentials } from '../../http/playback.js';
import { PlaylistIdParam } from '../playlists/schemas.js';
import { PodcastIdParam } from '../podcasts/schemas.js';
import { StreamIdParam } from '../streams/schemas.js';
import { pageAssets, pickEncoding, type Asset } from './assets.js';
import { NowPlayingSchema, OEmbedQuery, OEmbedSchema, PageQuery, PodcastPageQuery } from './schemas.js';
import type { PagesService } from './service.js';
import { DomainError } from '../../core/errors.js';
import { formCsrfToken, formProblem, pageListener, readForm, type WebSubscribeDeps } from './subscribe-routes.js';
import { PAGE_STYLE_HASH, renderEmbed, renderNotFound, renderPage, type PageModel } from './templates.js';

const htmlContent = { 'text/html': { schema: z.string() } };
const notFoundHtml = { description: 'No such page, or it is not public', content: htmlContent };

function pageRoute<Q extends typeof PageQuery = typeof PageQuery>(
  path: string,
  params: typeof StreamIdParam | typeof PlaylistIdParam | typeof PodcastIdParam,
  operationId: string,
  summary: string,
  query?: Q,
) {
  return publicRoute({
    method: 'get',
    path,
    operationId,
    tags: ['pages'],
    summary,
    request: { params, query: (query ?? PageQuery) as Q },
    responses: { 200: { description: 'The page', content: htmlContent }, 404: notFoundHtml },
  });
}

const streamPage = pageRoute('/s/{id}', StreamIdParam, 'getStreamPage', 'The public listener page of a stream');
const playlistPage = pageRoute('/p/{id}', PlaylistIdParam, 'getPlaylistPage', 'The public listener page of a playlist');
const streamEmbed = pageRoute(
  '/embed/s/{id}',
  StreamIdParam,
  'getStreamEmbed',
  'The embeddable player of a stream (for an iframe)',
);
const playlistEmbed = pageRoute(
  '/embed/p/{id}',
  PlaylistIdParam,
  'getPlaylistEmbed',
  'The embeddable player of a playlist (for an iframe)',
);

const podcastPage = pageRoute(
  '/c/{id}',
  PodcastIdParam,
  'getPodcastPage',
  'The public listener page of a podcast: episodes, show notes, subscribe links',
  PodcastPageQuery,
);
const podcastEmbed = pageRoute(
  '/embed/c/{id}',
  PodcastIdParam,
  'getPodcastEmbed',
  'The embeddable player of a podcast (for an iframe)',
  PodcastPageQuery,
);

const oembed = publicRoute({
  method: 'get',
  path: '/oembed',
  operationId: 'getOEmbed',
  tags: ['pages'],
  summary: 'oEmbed (JSON, type rich) for a stream, playlist or podcast page URL',
  request: { query: OEmbedQuery },
  responses: { 200: { description: 'The oEmbed answer', content: json(OEmbedSchema) } },
});

const nowPlaying = playbackRoute({
  method: 'get',
  path: '/streams/{id}/now-playing.json',
  operationId: 'getStreamNowPlaying',
  summary: 'The live state and current track of a stream, for players (cacheable for a few seconds)',
  request: {
    params: StreamIdParam,
    query: z.object({
      token: z
        .string()
        .max(2000)
        .optional()
        .openapi({ param: { name: 'token', in: 'query' }, description: 'A playback token (private or monetized streams).' }),
    }),
  },
  responses: { 200: { description: 'Now playing', content: json(NowPlayingSchema) } },
});

const AssetParam = z.object({
  file: z
    .string()
    .regex(/^[a-z]+\.[0-9a-f]{12}\.m?js$/, 'must be a versioned asset name')
    .openapi({ param: { name: 'file', in: 'path' }, example: 'player.0123456789ab.js' }),
});

const versionedAsset = publicRoute({
  method: 'get',
  path: '/assets/{file}',
  operationId: 'getPageAsset',
  tags: ['pages'],
  summary: 'A versioned script of the listener pages (immutable)',
  request: { params: AssetParam },
  responses: {
    200: { description: 'The script', content: { 'text/javascript': { schema: z.string() } } },
    304: { description: 'Not modified' },
  },
});

const playerScript = publicRoute({
  method: 'get',
  path: '/player.js',
  operationId: 'getPlayerScript',
  tags: ['pages'],
  summary: 'The <djcast-player> web component, for other sites (`<script type="module" src=…>`); cached for minutes',
  responses: {
    200: { description: 'The script', content: { 'text/javascript': { schema: z.string() } } },
    304: { description: 'Not modified' },
  },
});

/** Pages and embeds are short-lived in caches: the live state and track list change. */
const PAGE_MAX_AGE_SECONDS = 30;
const NOW_PLAYING_MAX_AGE_SECONDS = 5;
const PLAYER_MAX_AGE_SECONDS = 300;

/** The policy of every page: only our own script and inline style by hash; media from anywhere https (object-store segments) or here. */
function pageHeaders(m: PageModel | null, framing: 'deny' | 'any', publicOrigin: string): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${PAGE_STYLE_HASH}`,
    "img-src 'self' https: data:",
    `media-src 'self' blob: https: ${publicOrigin}`,
    `connect-src 'self' https: ${publicOrigin}`,
    "base-uri 'none'",
    // Only a subscriber's podcast page has a form (it posts here).
    m?.podcast?.privateFeed ? "form-action 'self'" : "form-action 'none'",
    `frame-ancestors ${framing === 'deny' ? "'none'" : '*'}`,
  ].join('; ');
  const headers: Record<string, string> = {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    // A signed-in subscriber's page differs from everyone else's.
    Vary: 'Cookie',
    // A page rendered for a token holder carries the token: nobody else may keep it.
    'Cache-Control': m && m.access !== 'granted' ? `public, max-age=${PAGE_MAX_AGE_SECONDS}` : 'private, no-store',
  };
  if (framing === 'deny') headers['X-Frame-Options'] = 'DENY';
  return headers;
}

function sendAsset(c: Context<AppEnv>, asset: Asset, cacheControl: string) {
  const headers: Record<string, string> = {
    'Content-Type': asset.contentType,
    'Cache-Control': cacheControl,
    ETag: asset.etag,
    Vary: 'Accept-Encoding',
    // Other sites load the player and hls.js as module scripts, which need CORS.
    'Access-Control-Allow-Origin': '*',
    'X-Content-Type-Options': 'nosniff',
  };
  const match = c.req.header('if-none-match');
  if (match && match.split(',').some((t) => t.trim() === asset.etag)) return c.body(null, 304, headers);
  const encoding = pickEncoding(c.req.header('accept-encoding'));
  if (encoding !== 'identity') headers['Content-Encoding'] = encoding;
  const body = asset.body(encoding);
  headers['Content-Length'] = String(body.length);
  return c.body(new Uint8Array(body), 200, headers);
}

export function registerPagesRoutes(app: App, pages: PagesService, publicUrl: string, web?: WebSubscribeDeps): void {
  const publicOrigin = new URL(publicUrl).origin;

  const render = async (
    c: Context<AppEnv>,
    load: () => Promise<PageModel>,
    view: (m: PageModel) => string,
    framing: 'deny' | 'any',
  ) => {
    try {
      const model = await load();
      return c.body(view(model), 200, pageHeaders(model, framing, publicOrigin));
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
      return c.body(renderNotFound(), 404, pageHeaders(null, framing, publicOrigin));
    }
  };

  app.openapi(streamPage, (c) => {
    const { id } = c.req.valid('param');
    const { token, engine } = c.req.valid('query');
    return render(
      c,
      async () => pages.streamPage({ id, token, engine, listener: await pageListener(c, web) }),
      renderPage,
      'deny',
    );
  });
  app.openapi(playlistPage, (c) => {
    const { id } = c.req.valid('param');
    const { token, engine } = c.req.valid('query');
    return render(
      c,
      async () => pages.playlistPage({ id, token, engine, listener: await pageListener(c, web) }),
      renderPage,
      'deny',
    );
  });
  app.openapi(streamEmbed, (c) => {
    const { id } = c.req.valid('param');
    const { token, engine } = c.req.valid('query');
    return render(c, () => pages.streamPage({ id, token, engine }), renderEmbed, 'any');
  });
  app.openapi(playlistEmbed, (c) => {
    const { id } = c.req.valid('param');
    const { token, engine } = c.req.valid('query');
    return render(c, () => pages.playlistPage({ id, token, engine }), renderEmbed, 'any');
  });

  /** A signed-in subscriber's podcast page offers the form that mints their own feed. */
  const withPrivateFeed = (c: Context<AppEnv>, m: PageModel, id: string, url: string | null): PageModel =>
    web && m.access === 'granted' && m.podcast
      ? {
          ...m,
          podcast: {
            ...m.podcast,
            privateFeed: { action: `/c/${id}/personal-feed`, csrf: formCsrfToken(c, web.sessions), url },
          },
        }
      : m;

  app.openapi(podcastPage, (c) => {
    const { id } = c.req.valid('param');
    const { engine, episode } = c.req.valid('query');
    return render(
      c,
      async () =>
        withPrivateFeed(c, await pages.podcastPage({ id, engine, episode, listener: await pageListener(c, web) }), id, null),
      renderPage,
      'deny',
    );
  });

  if (web) {
    // "Get my private feed": a browser form (CSRF-checked, same origin), not an API operation; the
    // API twin is POST /v1/podcasts/{id}/personal-feed. Mints through the same service method.
    app.post('/c/:id/personal-feed', async (c) => {
      const id = c.req.param('id');
      if (!/^pod_[0-9a-z]{26}$/.test(id)) return formProblem(c, 404, 'No such podcast', 'This page does not exist.');
      const post = await readForm(c, web.sessions);
      if (!post) return formProblem(c, 400, 'Not a form', 'Send the form from the podcast page.');
      if (post.refusal) return formProblem(c, 403, 'The form was refused', post.refusal);
      const listener = await pageListener(c, web);
      if (!listener) return formProblem(c, 401, 'Your session has ended', 'Subscribe or log in again from the podcast page.');
      let url: string;
      try {
        url = await pages.mintPrivateFeed(listener, id);
      } catch (error) {
        if (error instanceof NotFound) return formProblem(c, 404, 'No such podcast', 'This page does not exist.');
        if (error instanceof DomainError && error.status === 403)
          return formProblem(c, 403, 'For subscribers', 'Your subscription does not include this podcast.');
        if (error instanceof DomainError && error.status === 409)
          return formProblem(c, 409, 'This podcast is free', 'Use the feed on its page: no private feed is needed.');
        throw error;
      }
      return render(
        c,
        async () => withPrivateFeed(c, await pages.podcastPage({ id, engine: 'auto', listener }), id, url),
        renderPage,
        'deny',
      );
    });
  }
  app.openapi(podcastEmbed, (c) => {
    const { id } = c.req.valid('param');
    const { engine, episode } = c.req.valid('query');
    return render(c, () => pages.podcastPage({ id, engine, episode }), renderEmbed, 'any');
  });

  app.openapi(oembed, async (c) => {
    const { url, maxwidth, maxheight } = c.req.valid('query');
    const body = await pages.oembed(url, { width: maxwidth, height: maxheight });
    c.header('Access-Control-Allow-Origin', '*');
    c.header('Cache-Control', `public, max-age=${body.cache_age}`);
    return c.json(body, 200);
  });

  app.openapi(nowPlaying, async (c) => {
    const { body, open } = await pages.nowPlaying(c.req.valid('param').id, playbackCredentials(c));
    c.header('Cache-Control', playbackCaching.livePlaylist({ open }, NOW_PLAYING_MAX_AGE_SECONDS));
    return c.json(body, 200);
  });
  answerPlaybackPreflight(app, nowPlaying);

  app.openapi(versionedAsset, (c) => {
    const asset = pageAssets().find(c.req.valid('param').file);
    if (!asset) throw new NotFound('Asset', c.req.valid('param').file);
    return sendAsset(c, asset, 'public, max-age=31536000, immutable');
  });
  app.openapi(playerScript, (c) =>
    sendAsset(c, pageAssets().player, `public, max-age=${PLAYER_MAX_AGE_SECONDS}, stale-while-revalidate=86400`),
  );
}
