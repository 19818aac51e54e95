// At least once across a crash: the real server (`djcast-server serve`, a
// child process) commits an upload's `ready` state with its event, starts
// delivering it to a receiver that takes the request and never answers, and
// is killed with SIGKILL mid-delivery. A new server process delivers the same
// event (same webhook-id) once the dead worker's lease runs out: exactly one
// event for the one change, delivered after the restart. Both dialects.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/create-db.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, STRONG_PASSWORD, TEST_POSTGRES_URL, uniqueEmail, waitFor } from './harness.js';
import { BOUNDARY, multipartBody } from './uploads-support.js';
import { killServerProcesses, loggedEvent, startServerProcess, type ServerProcess } from './processes.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const mediaDir = mkdtempSync(path.join(tmpdir(), 'djcast-webhooks-durable-media-'));
let mp3: Buffer;

beforeAll(async () => {
  mp3 = readFileSync(await generateTestMp3(path.join(mediaDir, 'short.mp3'), { seconds: 3 }));
}, 60_000);
afterAll(() => rmSync(mediaDir, { recursive: true, force: true }));

describe.each(DIALECTS)('a webhook delivery interrupted by a dying server on %s', (dialect) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-webhooks-durable-'));
  const schema = `t_whdur_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const env: Record<string, string> = {
    DJCAST_DATA_DIR: dataDir,
    DJCAST_PORT: '0',
    DJCAST_HOST: '127.0.0.1',
    DJCAST_LOG_LEVEL: 'info',
    DJCAST_ALLOW_PRIVATE_URLS: 'true',
    DJCAST_JOB_LEASE_SECONDS: '2',
    // Longer than the test waits: the hanging receiver keeps the attempt open until the kill.
    DJCAST_WEBHOOK_TIMEOUT_SECONDS: '60',
    ...(dialect === 'postgres' ? { DJCAST_DATABASE_URL: TEST_POSTGRES_URL, DJCAST_DATABASE_SCHEMA: schema } : {}),
  };
  const procs: ServerProcess[] = [];
  let receiver: WebhookReceiver;
  const dbUrl = dialect === 'postgres' ? TEST_POSTGRES_URL : `sqlite:${path.join(dataDir, 'djcast.sqlite')}`;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await killServerProcesses(procs);
    await receiver.close();
    if (dialect === 'postgres') {
      const sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await sql.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is delivered by the restarted server, the same event exactly once', async () => {
    const serve = startServerProcess('serve', env);
    procs.push(serve);
    const started = await waitFor('the server to start', async () => loggedEvent(serve, 'server.started'), 60_000);
    const base = `http://127.0.0.1:${(started as { port: number }).port}`;
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${base}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const email = uniqueEmail('whdurable');
    expect((await post('/v1/auth/register', { email, password: STRONG_PASSWORD })).status).toBe(201);
    const { access_token: token } = (await (await post('/v1/auth/login', { email, password: STRONG_PASSWORD })).json()) as {
      access_token: string;
    };
    const endpointRes = await post('/v1/webhook-endpoints', { url: `${receiver.url}/durable`, events: ['upload.ready'] }, token);
    expect(endpointRes.status).toBe(201);
    const endpoint = (await endpointRes.json()) as { id: string; secret: string };
    receiver.setSecrets([endpoint.secret]);
    receiver.setMode('hang');

    const upload = await fetch(`${base}/v1/uploads/audio`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipartBody(mp3),
    });
    expect(upload.status).toBe(201);
    const { id: uploadId } = (await upload.json()) as { id: string };

    // The upload is ready (committed with its event) and the delivery is in flight: kill the server now.
    const first = await waitFor(
      'the delivery to reach the receiver',
      () => receiver.received.find((r) => r.path === '/durable'),
      90_000,
    );
    expect(first.event).toMatchObject({ type: 'upload.ready', data: { object: { id: uploadId, status: 'ready' } } });
    expect(first.answered).toBeNull();
    process.kill(serve.child.pid!, 'SIGKILL');
    await serve.exited;

    const db = createDb({ url: dbUrl, schema: dialect === 'postgres' ? schema : undefined });
    try {
      const events = await db.kysely.selectFrom('events').selectAll().where('type', '=', 'upload.ready').execute();
      expect(events.map((e) => e.id)).toEqual([first.id]);
      const delivery = await db.kysely
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('event_id', '=', first.id)
        .executeTakeFirstOrThrow();
      expect(delivery).toMatchObject({ state: 'pending', attempts: 0 });

      receiver.setMode('ok');
      const restarted = startServerProcess('serve', env);
      procs.push(restarted);
      const delivered = await waitFor(
        'the restarted server to deliver it',
        () => receiver.accepted().find((r) => r.path === '/durable'),
        90_000,
      );
      expect(delivered.id).toBe(first.id);
      expect(delivered.body).toBe(first.body);
      await waitFor('the delivery recorded', async () => {
        const d = await db.kysely
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('id', '=', delivery.id)
          .executeTakeFirstOrThrow();
        return d.state === 'succeeded' ? d : null;
      });
      // One change, one event; every request for it carried that event's id.
      const after = await db.kysely.selectFrom('events').selectAll().where('type', '=', 'upload.ready').execute();
      expect(after.map((e) => e.id)).toEqual([first.id]);
      const requests = receiver.received.filter((r) => r.path === '/durable');
      expect(new Set(requests.map((r) => r.id))).toEqual(new Set([first.id]));
      expect(requests.filter((r) => r.answered === 200)).toHaveLength(1);
      const attempts = await db.kysely
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('delivery_id', '=', delivery.id)
        .execute();
      expect(attempts.map((a) => a.outcome)).toEqual(['succeeded']);
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    } finally {
      await db.close();
    }
  }, 240_000);
});
