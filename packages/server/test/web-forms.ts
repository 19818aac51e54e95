// What the tests of the pages' web forms share: a browser's cookie jar and
// form posts against the app, the way a browser sends them.
import type { TestApp } from './harness.js';

/** A browser's cookie jar, enough for these cookies. */
export class Jar {
  readonly cookies = new Map<string, string>();
  take(res: Response): string[] {
    const set = res.headers.getSetCookie();
    for (const line of set) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      this.cookies.set(name!.trim(), value.join('='));
    }
    return set;
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** GET and form POST against the app, and the CSRF token a rendered form carries. */
export function webForms(app: () => TestApp) {
  return {
    get: (path: string, jar?: Jar) => app().app.request(path, { headers: jar ? { cookie: jar.header() } : {} }),
    post: (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
      app().app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
      }),
    csrfOf: (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '',
  };
}
