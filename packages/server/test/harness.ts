import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContainer, type Container, type ContainerOptions } from '../src/container.js';
import type { App } from '../src/http/env.js';

export const DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof DIALECTS)[number];

export const TEST_POSTGRES_URL = process.env.DJCAST_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestApp {
  app: App;
  container: Container;
  logs: Record<string, unknown>[];
  rawLogs: string[];
  dataDir: string;
  request(method: string, path: string, init?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
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
  /** Adapters to use instead of the ones config picks (e.g. a recording relay launcher). */
  adapters: Pick<ContainerOptions, 'relayLauncher'> = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-test-'));
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  if (dialect === 'postgres') await assertPostgresReachable();
  const config = loadConfig({
    DJCAST_DATA_DIR: dataDir,
    DJCAST_LOG_LEVEL: 'info',
    DJCAST_PUBLIC_URL: 'http://djcast.test',
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
  return {
    app,
    container,
    logs,
    rawLogs,
    dataDir,
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
  const reg = await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD, role: opts.role } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
  const { user_id } = (await reg.json()) as { user_id: string };
  const login = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
  const tokens = (await login.json()) as { access_token: string; refresh_token: string };
  return { userId: user_id, email, ...tokens, token: tokens.access_token };
}

export async function signUpAdmin(t: TestApp) {
  const email = uniqueEmail('admin');
  await t.container.auth.ensureAdmin(email, STRONG_PASSWORD);
  const login = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
  const tokens = (await login.json()) as { access_token: string };
  return { email, token: tokens.access_token };
}
