import { describe, expect, it } from 'vitest';
import { WebSessions } from './web-session.js';

const key = new Uint8Array(32).fill(7);

describe('web sessions and CSRF', () => {
  it('cookies are HttpOnly and SameSite=Lax always, Secure when the public URL is https', () => {
    expect(new WebSessions(key, 'https://djcast.example').cookie(60)).toEqual({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/',
      maxAge: 60,
    });
    expect(new WebSessions(key, 'http://127.0.0.1:8787').cookie(60).secure).toBe(false);
  });

  it('accepts a post only from the public origin with the token of its own cookie', () => {
    const s = new WebSessions(key, 'https://djcast.example');
    const id = s.newBrowserId();
    const token = s.csrfToken(id);
    const ok = { browserId: id, token, origin: 'https://djcast.example', referer: undefined };
    expect(s.refuse(ok)).toBeNull();
    expect(s.refuse({ ...ok, origin: undefined, referer: 'https://djcast.example/subscribe?plan=x' })).toBeNull();
    expect(s.refuse({ ...ok, origin: 'https://evil.example' })).toMatch(/not sent from this site/);
    expect(s.refuse({ ...ok, origin: undefined })).toMatch(/not sent from this site/);
    expect(s.refuse({ ...ok, origin: 'null', referer: undefined })).toMatch(/not sent from this site/);
    expect(s.refuse({ ...ok, token: undefined })).toMatch(/expired/);
    expect(s.refuse({ ...ok, browserId: s.newBrowserId() })).toMatch(/expired/);
    expect(s.refuse({ ...ok, token: new WebSessions(new Uint8Array(32), 'https://djcast.example').csrfToken(id) })).toMatch(
      /expired/,
    );
  });

  it('returns only to a stream, playlist or podcast page of this server', () => {
    const s = new WebSessions(key, 'https://djcast.example');
    expect(s.returnPath('/s/str_01jd0v9m3x7k2p8q4r5s6t7u8v')).toBe('/s/str_01jd0v9m3x7k2p8q4r5s6t7u8v');
    expect(s.returnPath('/p/pls_01jd0v9m3x7k2p8q4r5s6t7u8v')).toBe('/p/pls_01jd0v9m3x7k2p8q4r5s6t7u8v');
    expect(s.returnPath('/c/pod_01jd0v9m3x7k2p8q4r5s6t7u8v')).toBe('/c/pod_01jd0v9m3x7k2p8q4r5s6t7u8v');
    for (const bad of [
      'https://evil.example/',
      '//evil.example/s/str_01jd0v9m3x7k2p8q4r5s6t7u8v',
      '/s/pls_01jd0v9m3x7k2p8q4r5s6t7u8v',
      '/c/pls_01jd0v9m3x7k2p8q4r5s6t7u8v',
      '/c/pod_01jd0v9m3x7k2p8q4r5s6t7u8v/personal-feed',
      '/c/pod_01jd0v9m3x7k2p8q4r5s6t7u8v?x=https://evil.example',
      'https://evil.example/c/pod_01jd0v9m3x7k2p8q4r5s6t7u8v',
      '/v1/me',
      undefined,
    ])
      expect(s.returnPath(bad)).toBeNull();
  });
});
