// Where a listener page and its embed live, from the platform's public URL.
// The streams and playlists views use these for `page_url` and `embed_html`,
// so the API, the pages and the oEmbed answer agree on one URL per resource.

import { escapeHtml } from './html.js';

export type PageKind = 'stream' | 'playlist' | 'podcast';

/** The short path segment of each kind: /s/{id}, /p/{id}, /c/{id} (podcast pages come with the podcasts feature). */
export const PAGE_PREFIX: Record<PageKind, string> = { stream: 's', playlist: 'p', podcast: 'c' };

export function pageUrl(publicUrl: string, kind: PageKind, id: string): string {
  return `${publicUrl}/${PAGE_PREFIX[kind]}/${id}`;
}

export function embedUrl(publicUrl: string, kind: PageKind, id: string): string {
  return `${publicUrl}/embed/${PAGE_PREFIX[kind]}/${id}`;
}

/** The size of the embed iframe: one row of player, title and now playing. */
export const EMBED_HEIGHT = 152;
export const EMBED_MAX_WIDTH = 640;

/** The iframe snippet a DJ pastes into a site. */
export function embedSnippet(
  publicUrl: string,
  kind: PageKind,
  id: string,
  title: string,
  size: { width: number | '100%'; height: number } = { width: '100%', height: EMBED_HEIGHT },
): string {
  return (
    `<iframe src="${escapeHtml(embedUrl(publicUrl, kind, id))}" title="${escapeHtml(`${title} on djcast`)}" ` +
    `width="${size.width}" height="${size.height}" style="border:0;max-width:${EMBED_MAX_WIDTH}px" ` +
    `allow="autoplay; encrypted-media" loading="lazy"></iframe>`
  );
}

/** The kind and id a page or embed URL names, or null when it is not one of ours. */
export function parsePageUrl(publicUrl: string, url: string): { kind: PageKind; id: string } | null {
  let parsed: URL;
  let base: URL;
  try {
    parsed = new URL(url);
    base = new URL(publicUrl);
  } catch {
    return null;
  }
  if (parsed.origin !== base.origin) return null;
  const basePath = base.pathname.replace(/\/$/, '');
  if (!parsed.pathname.startsWith(`${basePath}/`)) return null;
  const rest = parsed.pathname.slice(basePath.length);
  const match = /^\/(?:embed\/)?([spc])\/((?:str|pls|pod)_[0-9a-z]{26})\/?$/.exec(rest);
  const kind = (Object.keys(PAGE_PREFIX) as PageKind[]).find((k) => PAGE_PREFIX[k] === match?.[1]);
  const id = match?.[2];
  if (!kind || !id) return null;
  const expected = { stream: 'str_', playlist: 'pls_', podcast: 'pod_' }[kind];
  return id.startsWith(expected) ? { kind, id } : null;
}
