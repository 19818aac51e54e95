import { readFileSync } from 'node:fs';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/harness.js';
import type { App, AppEnv } from './http/env.js';
import type { FeatureModule } from './modules.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** What app.ts itself serves: the spec and its reference page. Everything else is a module's. */
const CROSS_CUTTING = ['GET /openapi.json', 'GET /docs'];

/** "METHOD /path" for every handler Hono has, middleware ("ALL /*") left out. */
function honoRoutes(app: App): Set<string> {
  return new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
}

/** "METHOD /path" for every operation a spec declares (paths in OpenAPI form: /v1/streams/{id}). */
function specOperations(spec: { paths: Record<string, Record<string, unknown>> }): Set<string> {
  const ops = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of HTTP_METHODS) if (item[method]) ops.add(`${method.toUpperCase()} ${path}`);
  }
  return ops;
}

/** Mounts one module on an app of its own and reads back what it declared. */
function mountAlone(module: FeatureModule): { routes: Set<string>; operations: Set<string> } {
  const app: App = new OpenAPIHono<AppEnv>();
  module.routes?.(app);
  const spec = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: module.name, version: '0' } });
  return { routes: honoRoutes(app), operations: specOperations(spec as never) };
}

describe('the feature modules the container lists', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(() => t.close());

  it('are every feature, and register their jobs with the worker, one definition per kind', () => {
    expect(t.container.modules.map((m) => m.name)).toEqual([
      'ops',
      'auth',
      'streams',
      'artworks',
      'uploads',
      'playlists',
      'podcasts',
      'relays',
      'webhooks',
      'pages',
      'analytics',
      'domains',
      'billing',
      'archives',
      'ads',
    ]);
    expect(t.container.worker.kinds.sort()).toEqual([
      'ads.normalize',
      'analytics.fold',
      'archive.join_set',
      'archive.make_episode',
      'archive.purge_feed',
      'domain.check',
      'domain.issue_certificate',
      'domain.renew_certificate',
      'events.fanout',
      'playlist.external_track',
      'podcast.publish_episode',
      'upload.process',
      'webhooks.deliver',
    ]);
  });

  it('register their metrics and routes', async () => {
    const metrics = await t.container.metrics.registry.metrics();
    expect(metrics).toMatch(/relay_listener_count/);
    const spec = (await (await t.request('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const path of ['/v1/uploads/audio', '/v1/playlists', '/v1/relays/{relay_id}/heartbeat', '/playlists/{id}/stream.mp3']) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
  });

  it('own every operation in the spec, each operation exactly one module', async () => {
    const spec = (await (await t.request('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const inSpec = specOperations(spec);
    expect(inSpec.size).toBeGreaterThan(30);

    const owner = new Map<string, string>();
    for (const module of t.container.modules) {
      const { operations } = mountAlone(module);
      for (const op of operations) {
        expect(owner.get(op), `${op} is declared by both ${owner.get(op)} and ${module.name}`).toBeUndefined();
        owner.set(op, module.name);
      }
    }
    const unowned = [...inSpec].filter((op) => !owner.has(op));
    expect(unowned, 'operations in the spec that no module mounts (registered directly in app.ts?)').toEqual([]);
    const undocumented = [...owner.keys()].filter((op) => !inSpec.has(op));
    expect(undocumented, 'operations a module mounts that the app does not serve').toEqual([]);
  });

  it('are the only source of routes: app.ts adds nothing but the spec and its reference page', () => {
    const fromModules = new Set<string>();
    for (const module of t.container.modules) for (const route of mountAlone(module).routes) fromModules.add(route);
    const extra = [...honoRoutes(t.app)].filter((route) => !fromModules.has(route));
    expect(extra.sort()).toEqual([...CROSS_CUTTING].sort());
  });

  it('app.ts imports no feature: it mounts what container.ts lists', () => {
    const source = readFileSync(new URL('./app.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/from '\.\/features\//);
    expect(source).toMatch(/mountModuleRoutes\(app, container\.modules\)/);
  });

  it('start nothing while the container is built: the watchdog and the worker wait for main.ts', async () => {
    const before = t.logs.length;
    // A running watchdog would tick every interval; a running worker would claim.
    expect((t.container.relayWatchdog as unknown as { timer: unknown }).timer).toBeNull();
    expect((t.container.worker as unknown as { loop: unknown }).loop).toBeUndefined();
    expect(t.logs.slice(before).filter((l) => String(l.event ?? '').startsWith('job.'))).toEqual([]);
  });
});
