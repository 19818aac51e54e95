// The whole djcast API in process for SDK tests, from the server's one test
// harness (@djcast/server/testing). `fetch` is the real app.fetch behind an
// observer that records what the SDK sent.
import {
  RecordingLauncher,
  STRONG_PASSWORD,
  TEST_BASE_URL,
  createTestApp,
  startFakeIcecast,
  type TestApp,
} from '@djcast/server/testing';

export { manualClock, uniqueEmail, waitFor } from '@djcast/server/testing';

export const PASSWORD = STRONG_PASSWORD;

export interface SentRequest {
  method: string;
  path: string;
  headers: Headers;
}

export interface TestServer {
  baseUrl: string;
  /** The server's container: `container.worker.start()` runs background jobs (transcodes), `container.db` the database. */
  container: TestApp['container'];
  /** An Icecast-like loopback source the server can probe; register streams with `sourceUrl`. */
  sourceUrl: string;
  /** app.fetch, recording every request in `sent`. */
  fetch: (request: Request) => Promise<Response>;
  sent: SentRequest[];
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: { clock?: () => Date } = {},
): Promise<TestServer> {
  const source = await startFakeIcecast();
  // Relay workers are the server's business; record their launches instead of running FFmpeg.
  const t = await createTestApp(
    'sqlite',
    { DJCAST_LOG_LEVEL: 'silent', ...env },
    { clock: options.clock, relayLauncher: new RecordingLauncher() },
  );
  const sent: SentRequest[] = [];
  return {
    baseUrl: TEST_BASE_URL,
    container: t.container,
    sourceUrl: `${source.url}/live`,
    sent,
    fetch: async (request) => {
      sent.push({ method: request.method, path: new URL(request.url).pathname, headers: new Headers(request.headers) });
      return t.app.fetch(request);
    },
    async close() {
      await t.close();
      await source.close();
    },
  };
}
