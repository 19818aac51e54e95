// The listener's browser session on the pages, and CSRF protection for the
// subscribe forms. Pure over a key and a clock, so it is tested as data.
//
// - The session cookie holds the listener's API access token (a short-lived
//   JWT from the auth service): HttpOnly, SameSite=Lax, Secure when the public
//   URL is https, Max-Age its lifetime. Pages read it to grant playback.
// - CSRF: every form carries a token bound to a random per-browser cookie
//   (HMAC of it under a server key) and every POST must come from the public
//   origin (Origin or, failing that, Referer). A cross-site form can neither
//   read the cookie nor forge the MAC.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'djcast_session';
export const CSRF_COOKIE = 'djcast_csrf';
/** The CSRF cookie outlives a few form round trips, not a session. */
export const CSRF_COOKIE_SECONDS = 2 * 60 * 60;

export interface CookieOptions {
  httpOnly: true;
  secure: boolean;
  sameSite: 'Lax';
  path: '/';
  maxAge: number;
}

export class WebSessions {
  private readonly secure: boolean;
  private readonly origin: string;

  constructor(
    private readonly key: Uint8Array,
    publicUrl: string,
  ) {
    const url = new URL(publicUrl);
    this.secure = url.protocol === 'https:';
    this.origin = url.origin;
  }

  cookie(maxAge: number): CookieOptions {
    return { httpOnly: true, secure: this.secure, sameSite: 'Lax', path: '/', maxAge };
  }

  newBrowserId(): string {
    return randomBytes(18).toString('base64url');
  }

  /** The form field for this browser's CSRF cookie. */
  csrfToken(browserId: string): string {
    return createHmac('sha256', this.key).update(`csrf:${browserId}`).digest('base64url');
  }

  /** Why a form post is refused, or null when it may proceed. */
  refuse(post: {
    browserId: string | undefined;
    token: string | undefined;
    origin: string | undefined;
    referer: string | undefined;
  }): string | null {
    const from = post.origin && post.origin !== 'null' ? post.origin : post.referer ? safeOrigin(post.referer) : undefined;
    if (from !== this.origin) return 'The form was not sent from this site.';
    if (!post.browserId || !post.token) return 'The form has expired. Open the page again and retry.';
    const expected = Buffer.from(this.csrfToken(post.browserId));
    const given = Buffer.from(post.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return 'The form has expired. Open the page again and retry.';
    return null;
  }

  /**
   * Where to send the listener back: only a stream, playlist or podcast page
   * of this server (a path, never another site), so the form is no open redirect.
   */
  returnPath(value: string | undefined): string | null {
    if (!value) return null;
    return /^\/(s\/str|p\/pls|c\/pod)_[0-9a-z]{26}$/.test(value) ? value : null;
  }
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
