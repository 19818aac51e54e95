/**
 * Telling listeners from relays. Every connection a djcast relay makes to a
 * source carries RELAY_USER_AGENT, so wherever the source server lists its
 * clients (Icecast's admin/listclients), every djcast relay pulling the mount
 * (this stream's and any other stream's on the same mount) is recognised and
 * not counted as a listener.
 */

/** The User-Agent of every connection a relay makes to pull audio. */
export const RELAY_USER_AGENT = 'djcast-relay/0.1';

/** True for a User-Agent sent by any djcast relay version. */
export function isRelayUserAgent(userAgent: string | null | undefined): boolean {
  return typeof userAgent === 'string' && /^djcast-relay\/\d/.test(userAgent.trim());
}

export interface ClientList {
  /** Clients connected to the mount, relays included. */
  total: number;
  /** Of those, djcast relays. */
  relays: number;
}

/**
 * Icecast 2.4 `/admin/listclients?mount=/x` (XML):
 * `<icestats><source mount="/x"><Listeners>3</Listeners><listener id="5"><IP>…</IP><UserAgent>…</UserAgent>…</listener>…</source></icestats>`.
 */
export function parseIcecastClientList(xml: string): ClientList {
  if (!/<icestats[\s>]/.test(xml)) throw new Error('not an Icecast client list (no <icestats>)');
  let total = 0;
  let relays = 0;
  for (const match of xml.matchAll(/<listener\b[^>]*>([\s\S]*?)<\/listener>/g)) {
    total += 1;
    const ua = /<UserAgent>([\s\S]*?)<\/UserAgent>/.exec(match[1]!)?.[1];
    if (isRelayUserAgent(ua === undefined ? null : decodeXml(ua))) relays += 1;
  }
  return { total, relays };
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

/** The admin URL that lists the clients of the source's mount. */
export function icecastClientListUrl(sourceUrl: string): URL {
  const source = new URL(sourceUrl);
  const url = new URL('/admin/listclients', `${source.protocol}//${source.host}`);
  url.searchParams.set('mount', source.pathname || '/');
  return url;
}
