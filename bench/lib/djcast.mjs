// The djcast server under test, as its own fresh process: the built
// packages/server/dist, a temp data dir, SQLite (default) or a fresh
// Postgres schema that is dropped at cleanup. Every request is logged at
// info level (to /dev/null) and counted, as in production.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHttp } from './proc.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Resolves packages the way the server does (hono, postgres), so peers run the same versions. */
export const serverRequire = createRequire(path.join(root, 'packages/server/package.json'));

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const postgresUrl = () => process.env.DJCAST_BENCH_DATABASE_URL || DEFAULT_POSTGRES_URL;

/**
 * Starts `djcast-server serve` in `scope` on a fresh data dir.
 * `database`: 'sqlite' or 'postgres'. `env` adds or overrides DJCAST_* settings.
 * `args`: extra Node flags (e.g. ['--cpu-prof', '--cpu-prof-dir=…']).
 */
export async function startDjcast(scope, { database = 'sqlite', env = {}, nodeArgs = [] } = {}) {
  const main = path.join(root, 'packages/server/dist/main.js');
  if (!existsSync(main)) throw new Error('packages/server/dist is missing: run `pnpm build` first (pnpm bench does).');
  const dataDir = scope.tempDir('djcast-bench-data-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dbEnv = {};
  if (database === 'postgres') {
    const schema = `bench_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    dbEnv.DJCAST_DATABASE_URL = postgresUrl();
    dbEnv.DJCAST_DATABASE_SCHEMA = schema;
    scope.defer(() => dropSchema(schema));
  }
  const proc = scope.spawn(main, ['serve'], {
    cwd: root,
    nodeArgs,
    env: {
      DJCAST_DATA_DIR: dataDir,
      DJCAST_PORT: String(port),
      DJCAST_HOST: '127.0.0.1',
      DJCAST_PUBLIC_URL: url,
      DJCAST_LOG_LEVEL: 'info',
      DJCAST_ALLOW_PRIVATE_URLS: 'true',
      DJCAST_DATABASE_URL: undefined,
      DJCAST_DATABASE_SCHEMA: undefined,
      ...dbEnv,
      ...env,
    },
  });
  await waitForHttp(`${url}/readyz`, proc, { what: 'djcast-server' });
  return { url, pid: proc.pid, proc, dataDir, database };
}

async function dropSchema(schema) {
  const postgres = serverRequire('postgres');
  const sql = postgres(postgresUrl(), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop schema if exists "${schema}" cascade`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Registers a DJ, logs in, and returns a small client: api(method, path, body), upload(bytes, name), token. */
export async function signUp(url, { email = `bench-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com` } = {}) {
  const password = 'turntable-Wizard-42!';
  const post = (p, body) =>
    fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reg = await post('/v1/auth/register', { email, password });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const login = await post('/v1/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const token = (await login.json()).access_token;
  const api = async (method, p, body, bearer = token) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return json;
  };
  const upload = async (bytes, filename) => {
    const boundary = '----djcastBench';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: audio/mpeg\r\n\r\n`,
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${url}/v1/uploads/audio`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    const json = await res.json();
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { email, password, token, api, upload };
}
