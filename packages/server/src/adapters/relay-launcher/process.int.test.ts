// The real djcast-relay worker (built by `pnpm build`) started by the process
// launcher with its default command: proves the environment contract between
// the launcher and the worker, end to end.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relaySpec } from '../../../test/k8s-fixtures.js';
import { defaultRelayCommand, ProcessRelayLauncher } from './process.js';
import type { RelayLogEntry } from './types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-int-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ProcessRelayLauncher with the real relay worker', () => {
  it('starts djcast-relay with the spec environment; its /healthz answers; stop ends it', { timeout: 30_000 }, async () => {
    try {
      // Throws when the relay worker is not built.
      defaultRelayCommand(process.execPath);
    } catch (error) {
      throw new Error(`This test runs the built relay worker: run pnpm build first (${String(error)})`);
    }
    const logs: RelayLogEntry[] = [];
    const launcher = new ProcessRelayLauncher({
      logger: (entry) => logs.push(entry),
      parentEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
      stopGraceMs: 5000,
    });
    // Nothing listens on the source or the API: the worker starts, retries, and stays up.
    const spec = relaySpec({
      sourceUrl: 'http://127.0.0.1:9/live',
      statsUrl: 'http://127.0.0.1:9/status-json.xsl',
      apiUrl: 'http://127.0.0.1:9',
      storageEnv: { DJCAST_STORAGE: 'local', DJCAST_STORAGE_DIR: path.join(dir, 'media') },
    });
    try {
      await launcher.start(spec);
      expect(launcher.pid(spec.relayId)).toBeGreaterThan(0);
      let started: RelayLogEntry | undefined;
      for (let i = 0; i < 300 && !started; i++) {
        started = logs.find((l) => l.source === 'stdout' && l.record?.event === 'relay.started');
        if (!started) await sleep(20);
      }
      expect(started, `no relay.started line; got: ${logs.map((l) => l.msg).join(' | ')}`).toBeDefined();
      expect(started!.record).toMatchObject({
        relay_worker_id: spec.relayId,
        stream_id: spec.streamId,
        config: { relay_id: spec.relayId, source_auth: true, storage: 'local' },
      });
      const port = started!.record!.health_port as number;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(9464);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      // The token travels in the environment only; the worker never logs it.
      expect(JSON.stringify(logs)).not.toContain(spec.relayToken);
      await launcher.stop(spec.relayId);
      expect(await launcher.list()).toEqual([]);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await launcher.close();
    }
  });
});
