// A loopback stand-in for Cloudflare's API v4 (zones and DNS records), for the
// Cloudflare DNS adapter's and CDN purger's tests. It checks what each request must carry as
// Cloudflare documents it: the path under /client/v4, the method, the
// `Authorization: Bearer <token>` header, and the JSON body of writes; anything
// else is answered 400 and recorded as a violation.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRecord {
  id: string;
  type: string;
  name: string;
  content: string;
  ttl: number;
  proxied: boolean;
}

export interface FakeCloudflare {
  baseUrl: string;
  token: string;
  zones: { id: string; name: string }[];
  records: Map<string, FakeRecord[]>;
  requests: { method: string; path: string; body: unknown }[];
  /** Every URL purged from the cache, in order. */
  purged: string[];
  violations: string[];
  close(): Promise<void>;
}

const envelope = (result: unknown, info?: { count: number }) => ({
  success: true,
  errors: [],
  messages: [],
  result,
  ...(info ? { result_info: { page: 1, per_page: 100, count: info.count, total_count: info.count, total_pages: 1 } } : {}),
});

export async function startFakeCloudflare(zones: { id: string; name: string }[]): Promise<FakeCloudflare> {
  const token = `cf-test-${Math.random().toString(36).slice(2)}`;
  const records = new Map<string, FakeRecord[]>(zones.map((z) => [z.id, []]));
  const requests: FakeCloudflare['requests'] = [];
  const violations: string[] = [];
  const purged: string[] = [];
  let nextId = 1;

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      const fail = (why: string) => {
        violations.push(`${req.method} ${url.pathname}: ${why}`);
        send(400, { success: false, errors: [{ code: 1000, message: why }], messages: [], result: null });
      };
      if (req.headers.authorization !== `Bearer ${token}`) return fail(`bad Authorization header ${req.headers.authorization}`);
      if (req.headers['x-auth-key'] || req.headers['x-auth-email']) return fail('legacy key headers sent next to the token');
      if (!url.pathname.startsWith('/client/v4/')) return fail('not under /client/v4');
      const p = url.pathname.slice('/client/v4'.length);

      if (req.method === 'GET' && p === '/zones') {
        const name = url.searchParams.get('name');
        const found = zones.filter((z) => !name || z.name === name);
        return send(200, envelope(found, { count: found.length }));
      }
      const purge = /^\/zones\/([^/]+)\/purge_cache$/.exec(p);
      if (purge) {
        // Purge by URL: POST with a JSON body of `files`, at most 30 full URLs (every plan's limit).
        if (req.method !== 'POST') return fail('purge_cache takes POST');
        if (!zones.some((z) => z.id === purge[1]))
          return send(404, { success: false, errors: [{ code: 7003, message: 'no such zone' }], messages: [], result: null });
        const files = (body as { files?: unknown } | undefined)?.files;
        const keys = Object.keys(body ?? {}).join(',');
        if (keys !== 'files') return fail(`unexpected purge body fields ${keys}`);
        if (!Array.isArray(files) || files.length === 0 || files.length > 30) return fail(`files must hold 1 to 30 URLs: ${raw}`);
        if (!files.every((f) => typeof f === 'string' && /^https?:\/\//.test(f))) return fail(`files must be full URLs: ${raw}`);
        purged.push(...(files as string[]));
        return send(200, envelope({ id: purge[1] }));
      }
      const m = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(p);
      if (!m) return fail('unknown path');
      const zoneRecords = records.get(m[1]!);
      if (!zoneRecords)
        return send(404, { success: false, errors: [{ code: 7003, message: 'no such zone' }], messages: [], result: null });
      const recordId = m[2];
      const checkBody = (): FakeRecord | null => {
        const b = body ?? {};
        const keys = Object.keys(b).sort().join(',');
        if (keys !== 'content,name,proxied,ttl,type') {
          fail(`unexpected body fields ${keys}`);
          return null;
        }
        if (
          b.type !== 'CNAME' ||
          typeof b.name !== 'string' ||
          typeof b.content !== 'string' ||
          b.ttl !== 1 ||
          b.proxied !== false
        ) {
          fail(`bad body ${raw}`);
          return null;
        }
        if (req.headers['content-type']?.split(';')[0] !== 'application/json') {
          fail('body not sent as application/json');
          return null;
        }
        return { id: recordId ?? `rec${nextId++}`, type: b.type, name: b.name, content: b.content, ttl: 1, proxied: false };
      };
      if (req.method === 'GET' && !recordId) {
        const type = url.searchParams.get('type');
        const exact = url.searchParams.get('name.exact');
        const found = zoneRecords.filter((r) => (!type || r.type === type) && (!exact || r.name === exact));
        return send(200, envelope(found, { count: found.length }));
      }
      if (req.method === 'POST' && !recordId) {
        const rec = checkBody();
        if (!rec) return;
        zoneRecords.push(rec);
        return send(200, envelope(rec));
      }
      if (req.method === 'PUT' && recordId) {
        const rec = checkBody();
        if (!rec) return;
        const i = zoneRecords.findIndex((r) => r.id === recordId);
        if (i < 0)
          return send(404, { success: false, errors: [{ code: 81044, message: 'no such record' }], messages: [], result: null });
        zoneRecords[i] = rec;
        return send(200, envelope(rec));
      }
      if (req.method === 'DELETE' && recordId) {
        const i = zoneRecords.findIndex((r) => r.id === recordId);
        if (i < 0)
          return send(404, { success: false, errors: [{ code: 81044, message: 'no such record' }], messages: [], result: null });
        zoneRecords.splice(i, 1);
        return send(200, envelope({ id: recordId }));
      }
      return fail('unexpected method');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/client/v4`,
    token,
    zones,
    records,
    requests,
    purged,
    violations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
