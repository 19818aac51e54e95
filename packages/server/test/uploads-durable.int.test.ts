// Transcoding survives a server dying mid-job. The real entry point runs as
// child processes: `djcast-server serve` (API + in-process worker) takes an
// upload and starts transcoding; it is killed with SIGKILL mid-transcode; a
// `djcast-server worker` started afterwards picks the job up once its lease
// runs out and finishes it. Both dialects.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/create-db.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, STRONG_PASSWORD, TEST_POSTGRES_URL, uniqueEmail } from './harness.js';
import {
  killServerProcesses,
  loggedEvent,
  processesWhoseArgvContains,
  startServerProcess,
  type ServerProcess,
} from './processes.js';
import { multipartBody, BOUNDARY, waitFor } from './uploads-support.js';

const mediaDir = mkdtempSync(path.join(tmpdir(), 'djcast-durable-media-'));
let long: Buffer;

beforeAll(async () => {
  // Long enough that the transcode is still running when the server is killed.
  long = readFileSync(
    await generateTestMp3(path.join(mediaDir, 'long.mp3'), {
      seconds: 600,
      bitrateKbps: 32,
      channels: 1,
      sampleRate: 22050,
      id3v2: false,
    }),
  );
}, 60_000);
afterAll(() => rmSync(mediaDir, { recursive: true, force: true }));

describe.each(DIALECTS)('a transcode interrupted by a dying server on %s', (dialect) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-durable-'));
  const schema = `t_durable_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const env: Record<string, string> = {
    DJCAST_DATA_DIR: dataDir,
    DJCAST_PORT: '0',
    DJCAST_HOST: '127.0.0.1',
    DJCAST_LOG_LEVEL: 'info',
    DJCAST_JOB_LEASE_SECONDS: '2',
    ...(dialect === 'postgres' ? { DJCAST_DATABASE_URL: TEST_POSTGRES_URL, DJCAST_DATABASE_SCHEMA: schema } : {}),
  };
  const procs: ServerProcess[] = [];
  const dbUrl = dialect === 'postgres' ? TEST_POSTGRES_URL : `sqlite:${path.join(dataDir, 'djcast.sqlite')}`;

  afterAll(async () => {
    await killServerProcesses(procs);
    if (dialect === 'postgres') {
      const sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await sql.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is picked up by `djcast-server worker` after the lease runs out, and finishes', async () => {
    const serve = startServerProcess('serve', env);
    procs.push(serve);
    const started = await waitFor('the server to start', async () => loggedEvent(serve, 'server.started'), 60_000);
    const port = (started as { port: number }).port;
    const base = `http://127.0.0.1:${port}`;

    const email = uniqueEmail('durable');
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${base}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    expect((await post('/v1/auth/register', { email, password: STRONG_PASSWORD })).status).toBe(201);
    const { access_token: token } = (await (await post('/v1/auth/login', { email, password: STRONG_PASSWORD })).json()) as {
      access_token: string;
    };
    const upload = await fetch(`${base}/v1/uploads/audio`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipartBody(long),
    });
    expect(upload.status).toBe(201);
    const { id } = (await upload.json()) as { id: string };

    // Transcoding has started (progress reported), then the server dies without any chance to clean up.
    await waitFor(
      'transcoding progress',
      async () => {
        const u = (await (
          await fetch(`${base}/v1/uploads/audio/${id}`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as { progress: number; status: string };
        expect(u.status).toBe('processing');
        return u.progress > 0;
      },
      60_000,
      20,
    );
    // SIGKILL to the server alone, not its group: nothing gets a chance to clean up, and its
    // FFmpeg must notice by itself (its stdin, fed by the server, reaches end-of-file).
    const ffmpegs = () => processesWhoseArgvContains(dataDir).filter((p) => p.argv[0]?.endsWith('ffmpeg'));
    expect(ffmpegs().map((p) => p.ppid)).toEqual([serve.child.pid]);
    process.kill(serve.child.pid!, 'SIGKILL');
    await serve.exited;
    await waitFor('the dead server’s FFmpeg to exit', async () => ffmpegs().length === 0, 30_000);
    // Its temp folder is left behind (no `finally` ran).
    const workDir = path.join(dataDir, 'work');
    const leftovers = readdirSync(workDir).filter((n) => n.startsWith(`djcast-hls-${serve.child.pid}-`));
    expect(leftovers).toHaveLength(1);

    const db = createDb({ url: dbUrl, schema: dialect === 'postgres' ? schema : undefined });
    try {
      const job = await db.kysely.selectFrom('jobs').selectAll().where('kind', '=', 'upload.process').executeTakeFirstOrThrow();
      expect(job).toMatchObject({ state: 'running', attempts: 1 });
      const deadWorker = job.locked_by;
      const row = await db.kysely
        .selectFrom('uploads')
        .select(['status', 'progress'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('processing');

      const worker = startServerProcess('worker', env);
      procs.push(worker);
      const done = await waitFor(
        'the worker to finish the upload',
        async () => {
          const u = await db.kysely
            .selectFrom('uploads')
            .select(['status', 'progress', 'status_reason'])
            .where('id', '=', id)
            .executeTakeFirstOrThrow();
          return u.status === 'processing' ? null : u;
        },
        90_000,
        100,
      );
      expect(done).toMatchObject({ status: 'ready', progress: 100, status_reason: null });
      // The upload turns ready inside the job; the worker marks the job done just after it returns.
      const after = await waitFor(
        'the job marked done',
        async () => {
          const row = await db.kysely.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
          return row.state === 'running' ? null : row;
        },
        30_000,
        100,
      );
      expect(after).toMatchObject({ state: 'done', attempts: 2 });
      expect(loggedEvent(worker, 'job.started')).toMatchObject({ job_id: job.id, attempt: 2 });
      expect(loggedEvent(worker, 'worker.started')?.worker_id).not.toBe(deadWorker);
      // The worker swept the dead server's temp folder when it started.
      expect(loggedEvent(worker, 'work_dir.swept')).toMatchObject({ removed: leftovers });
      expect(readdirSync(workDir).filter((n) => leftovers.includes(n))).toEqual([]);

      // The worker stops cleanly on SIGTERM.
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      await db.close();
    }
  }, 180_000);
});
