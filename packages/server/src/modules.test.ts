import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test/harness.js';

describe('the feature modules the container lists', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(() => t.close());

  it('register their jobs with the worker, one definition per kind', () => {
    expect(t.container.modules.map((m) => m.name)).toEqual(['uploads', 'playlists', 'relays']);
    expect(t.container.worker.kinds.sort()).toEqual(['playlist.external_track', 'upload.process']);
  });

  it('register their metrics and routes', async () => {
    const metrics = await t.container.metrics.registry.metrics();
    expect(metrics).toMatch(/relay_listener_count/);
    const spec = (await (await t.request('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    for (const path of ['/v1/uploads/audio', '/v1/playlists', '/v1/relays/{relay_id}/heartbeat', '/playlists/{id}/stream.mp3']) {
      expect(Object.keys(spec.paths)).toContain(path);
    }
  });

  it('start nothing while the container is built: the watchdog and the worker wait for main.ts', async () => {
    const before = t.logs.length;
    // A running watchdog would tick every interval; a running worker would claim.
    expect((t.container.relayWatchdog as unknown as { timer: unknown }).timer).toBeNull();
    expect((t.container.worker as unknown as { loop: unknown }).loop).toBeUndefined();
    expect(t.logs.slice(before).filter((l) => String(l.event ?? '').startsWith('job.'))).toEqual([]);
  });
});
