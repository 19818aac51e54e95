// An upload row and the job that finishes it are written in one
// transaction. The job insert is held (a trigger waits on an advisory lock
// the test holds) and another connection looks at what is committed at that
// moment, which is what a crash there would leave: before, the upload row,
// `processing` forever with no job to finish it; now nothing. Postgres,
// where a second connection can watch the window.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { TEST_POSTGRES_URL, createTestApp, signUp, type TestApp } from './harness.js';
import { postUpload, waitFor } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-atomic-'));
let mp3: Buffer;
beforeAll(async () => {
  mp3 = readFileSync(await generateTestMp3(path.join(dir, 'a.mp3'), { seconds: 3 }));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the window between an upload row and its job, on postgres', () => {
  let t: TestApp;
  let sql: postgres.Sql;
  let schema: string;
  const LOCK = 7_340_001 + Math.floor(Math.random() * 1_000_000);
  beforeAll(async () => {
    t = await createTestApp('postgres');
    schema = t.container.config.database.schema!;
    sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
    // Every job insert first waits for an advisory lock this test holds: the window between the writes.
    await sql.unsafe(`
      create function "${schema}".hold_job_insert() returns trigger language plpgsql as $$
      begin perform pg_advisory_xact_lock(${LOCK}); return new; end $$;
      create trigger hold_job_insert before insert on "${schema}".jobs for each row execute function "${schema}".hold_job_insert();
    `);
  });
  afterAll(async () => {
    await sql.end();
    await t.close();
  });

  it('holds nothing a crash could leave stuck in processing: the row and its job commit together', async () => {
    const dj = await signUp(t);
    const [{ me }] = (await sql`select pg_backend_pid() as me`) as unknown as [{ me: number }];
    await sql`select pg_advisory_lock(${LOCK})`;
    const response = postUpload(t, dj.token, mp3);
    // The server's connection, waiting on the lock this connection holds.
    const writer = await waitFor(
      'the job insert to wait in the window',
      async () => {
        const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where ${me}::int = any(pg_blocking_pids(pid))`;
        return rows[0]?.pid ?? null;
      },
      60_000,
      20,
    );
    // What a crash right now would leave behind: nothing, where it used to be an upload row,
    // committed and `processing`, whose job did not exist yet (and never would).
    expect(writer).toBeGreaterThan(0);
    expect(await sql.unsafe(`select id, status from "${schema}".uploads`)).toEqual([]);
    expect(await sql.unsafe(`select id from "${schema}".jobs`)).toEqual([]);
    await sql`select pg_advisory_unlock(${LOCK})`;
    // Let through, the row and its job commit together.
    const ok = await response;
    expect(ok.status).toBe(201);
    const { id } = (await ok.json()) as { id: string };
    expect(await sql.unsafe(`select status from "${schema}".uploads`)).toEqual([{ status: 'processing' }]);
    expect(await sql.unsafe(`select resource_id, state from "${schema}".jobs`)).toEqual([{ resource_id: id, state: 'queued' }]);
  }, 120_000);
});
