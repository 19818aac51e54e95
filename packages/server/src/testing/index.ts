/**
 * The test harness, exported as `@djcast/server/testing` for every package's tests:
 * the whole app built the way main.ts builds it (on a fresh SQLite file or Postgres
 * schema), a client typed from the API document over `app.fetch`, and the one `waitFor`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { paths } from '@djcast/sdk';
import createClient, { type Client } from 'openapi-fetch';
import postgres from 'postgres';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createContainer, type Container, type ContainerOptions } from '../container.js';
import type { App } from '../http/env.js';

export { manualClock, waitFor } from './wait.js';

/** A client typed by the API's own document, calling the app in process (no socket). */
export type ApiClient = Client<paths>;
export const TEST_BASE_URL = 'http://djcast.test';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

export const TEST_POSTGRES_URL = process.env.DJCAST_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestApp {
  app: App;
  container: Container;
  logs: Record<string, unknown>[];
  rawLogs: string[];
  dataDir: string;
  /**
   * The typed client over `app.fetch`, optionally signed in: `await t.api(token).GET('/v1/streams/{id}', …)`
   * gives `{ data, error, response }` typed from the spec, no casts.
   */
  api(token?: string): ApiClient;
  /** A raw request, for what the typed client cannot send (malformed bodies, odd headers). */
  request(
    method: string,
    path: string,
    init?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

async function assertPostgresReachable(): Promise<void> {
  const sql = postgres(TEST_POSTGRES_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(
      `The Postgres half of the tests needs a server at ${TEST_POSTGRES_URL} (set DJCAST_TEST_DATABASE_URL to point elsewhere). ` +
        `Start one, e.g. "pg_ctlcluster 15 main start". Underlying error: ${(error as Error).message}`,
    );
  } finally {
    await sql.end();
  }
}

/** The whole app, built the way main.ts builds it, on a fresh SQLite file or a fresh Postgres schema. */
export async function createTestApp(
  dialect: TestDialect,
  env: Record<string, string> = {},
  /** Adapters to use instead of the ones config picks (a recording relay launcher, a manual clock). */
  adapters: Pick<ContainerOptions, 'relayLauncher' | 'clock' | 'cdnPurger'> = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-test-'));
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  if (dialect === 'postgres') await assertPostgresReachable();
  const config = loadConfig({
    DJCAST_DATA_DIR: dataDir,
    DJCAST_LOG_LEVEL: 'info',
    DJCAST_PUBLIC_URL: TEST_BASE_URL,
    DJCAST_ALLOW_PRIVATE_URLS: 'true',
    ...(dialect === 'postgres' ? { DJCAST_DATABASE_URL: TEST_POSTGRES_URL, DJCAST_DATABASE_SCHEMA: schema } : {}),
    ...env,
  });
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const logDestination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        rawLogs.push(line);
        logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      cb();
    },
  });
  const container = await createContainer(config, { logDestination, defaultMetrics: false, ...adapters });
  const app = createApp(container);
  const fetchApp = (request: Request) => Promise.resolve(app.fetch(request));
  return {
    app,
    container,
    logs,
    rawLogs,
    dataDir,
    api(token) {
      return createClient<paths>({
        baseUrl: TEST_BASE_URL,
        fetch: fetchApp,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    },
    request(method, url, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      let body: string | undefined;
      if (init.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      }
      return Promise.resolve(app.request(url, { method, headers, body }));
    },
    async close() {
      await container.close();
      if (dialect === 'postgres') {
        const sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
        await sql.unsafe(`drop schema if exists "${schema}" cascade`);
        await sql.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const STRONG_PASSWORD = 'turntable-Wizard-42!';

let counter = 0;
export function uniqueEmail(prefix = 'dj'): string {
  counter += 1;
  return `${prefix}${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Registers and logs in a user; returns its id and tokens. */
export async function signUp(t: TestApp, opts: { role?: 'dj' | 'listener'; email?: string } = {}) {
  const email = opts.email ?? uniqueEmail(opts.role ?? 'dj');
  const reg = await t.api().POST('/v1/auth/register', { body: { email, password: STRONG_PASSWORD, role: opts.role } });
  if (!reg.data) throw new Error(`register failed: ${reg.response.status} ${JSON.stringify(reg.error)}`);
  const login = await t.api().POST('/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
  if (!login.data) throw new Error(`login failed: ${login.response.status} ${JSON.stringify(login.error)}`);
  const { access_token, refresh_token } = login.data;
  return { userId: reg.data.user_id, email, access_token, refresh_token, token: access_token };
}

export async function signUpAdmin(t: TestApp) {
  const email = uniqueEmail('admin');
  await t.container.auth.ensureAdmin(email, STRONG_PASSWORD);
  const login = await t.api().POST('/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
  if (!login.data) throw new Error(`admin login failed: ${login.response.status} ${JSON.stringify(login.error)}`);
  return { email, token: login.data.access_token };
}

// Loopback fakes of what the server talks to (an Icecast source, a relay launcher), for every package's tests.
export { RecordingLauncher, closedPort, startFakeIcecast, startSilentServer, type FakeSource } from '../../test/relay-fakes.js';
