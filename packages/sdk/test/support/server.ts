// The whole djcast API in process, built the way the server's main.ts builds
// it, for SDK tests. `fetch` is the real app.fetch behind an observer that
// records what the SDK sent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp, createContainer, loadConfig } from '../../../server/src/index.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from '../../../server/test/relay-fakes.js';

export const PASSWORD = 'turntable-Wizard-42!';

export interface SentRequest {
  method: string;
  path: string;
  headers: Headers;
}

export interface TestServer {
  baseUrl: string;
  /** The server's container: `container.worker.start()` runs background jobs (transcodes), `container.db` the database. */
  container: Awaited<ReturnType<typeof createContainer>>;
  /** An Icecast-like loopback source the server can probe; register streams with `sourceUrl`. */
  sourceUrl: string;
  /** app.fetch, recording every request in `sent`. */
  fetch: (request: Request) => Promise<Response>;
  sent: SentRequest[];
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, options: { clock?: () => Date } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-sdk-test-'));
  const source: FakeSource = await startFakeIcecast();
  const container = await createContainer(
    loadConfig({
      DJCAST_DATA_DIR: dataDir,
      DJCAST_DATABASE_URL: 'sqlite::memory:',
      DJCAST_LOG_LEVEL: 'silent',
      DJCAST_PUBLIC_URL: 'http://djcast.test',
      // The source lives on loopback.
      DJCAST_ALLOW_PRIVATE_URLS: 'true',
      ...env,
    }),
    // Relay workers are the server's business; record their launches instead of running FFmpeg.
    { defaultMetrics: false, clock: options.clock, relayLauncher: new RecordingLauncher() },
  );
  const app = createApp(container);
  const sent: SentRequest[] = [];
  return {
    baseUrl: 'http://djcast.test',
    container,
    sourceUrl: `${source.url}/live`,
    sent,
    fetch: async (request) => {
      sent.push({ method: request.method, path: new URL(request.url).pathname, headers: new Headers(request.headers) });
      return app.fetch(request);
    },
    async close() {
      await container.close();
      await source.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
export function uniqueEmail(prefix = 'dj'): string {
  counter += 1;
  return `${prefix}${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** A controllable clock for the server: starts now, moves only when told. */
export function manualClock(start = Date.now()) {
  let now = start;
  return {
    now: () => new Date(now),
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    get ms() {
      return now;
    },
  };
}
