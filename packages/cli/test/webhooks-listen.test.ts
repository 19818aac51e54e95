// `djcast webhooks listen`: the built binary opens the server's event stream
// and forwards a real `upload.ready` (an MP3 uploaded, scanned and transcoded
// by the job worker) to a local receiver, signed with the temporary secret it
// printed; the receiver verifies it with the standardwebhooks package.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDjcastClient } from '@djcast/sdk';
import { createApp, createContainer, loadConfig, type Container } from '@djcast/server';
import { waitFor } from '@djcast/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from '../../server/test/fixtures/media/generate.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../server/test/webhook-receiver.js';
import { ensureBuilt } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, uniqueEmail } from '../../sdk/test/support/server.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/run.js');

describe('djcast webhooks listen', () => {
  let dataDir: string;
  let container: Container;
  let http: Listening;
  let receiver: WebhookReceiver;
  let child: ChildProcess | undefined;
  let token: string;

  beforeAll(async () => {
    await ensureBuilt('cli');
    dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-cli-listen-'));
    container = await createContainer(
      loadConfig({ DJCAST_DATA_DIR: dataDir, DJCAST_DATABASE_URL: 'sqlite::memory:', DJCAST_LOG_LEVEL: 'silent' }),
      { defaultMetrics: false },
    );
    const app = createApp(container);
    http = await listen((req) => app.fetch(req));
    container.worker.start();
    receiver = await startWebhookReceiver();
    const client = createDjcastClient({ baseUrl: http.url });
    const email = uniqueEmail('listen');
    await client.auth.register({ email, password: PASSWORD });
    const signedIn = createDjcastClient({ baseUrl: http.url, credentials: { email, password: PASSWORD } });
    token = (await signedIn.tokens.create({ name: 'listen', scopes: ['uploads:write', 'webhooks:read'] })).token;
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await http?.close();
    await container?.close();
    await receiver?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('forwards a real upload.ready to the local URL, signed with the secret it printed', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'djcast-cli-listen-home-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('DJCAST_') && !k.startsWith('VITEST')) env[k] = v;
    Object.assign(env, {
      HOME: home,
      DJCAST_CONFIG_DIR: path.join(home, 'config'),
      DJCAST_API_URL: http.url,
      DJCAST_TOKEN: token,
    });
    child = spawn(
      process.execPath,
      [BIN, 'webhooks', 'listen', '--forward-to', `${receiver.url}/local-hook`, '--events', 'upload.ready', '--json'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const lines = () =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>);

    const ready = await waitFor(`listen to be ready (stderr: ${stderr})`, () => lines().find((l) => l.ready), 60_000);
    expect(ready.secret).toMatch(/^whsec_/);
    expect(ready.forward_to).toBe(`${receiver.url}/local-hook`);
    expect(stderr).toContain(ready.secret);
    receiver.setSecrets([ready.secret]);

    const mp3 = readFileSync(await generateTestMp3(path.join(dataDir, 'tone.mp3'), { seconds: 3 }));
    const client = createDjcastClient({ baseUrl: http.url, token });
    const upload = await client.uploads.create(new Blob([mp3], { type: 'audio/mpeg' }), { filename: 'tone.mp3' });
    await client.uploads.waitUntilReady(upload.id, { timeoutMs: 120_000, intervalMs: 200 });

    const got = await waitFor('the forwarded event', () => receiver.received.find((r) => r.path === '/local-hook'), 60_000);
    expect(got.rejection).toBeNull();
    expect(got.event!.type).toBe('upload.ready');
    expect(got.event!.data.object).toMatchObject({ id: upload.id, status: 'ready' });
    const line = await waitFor('the forward reported', () => lines().find((l) => l.event_id === got.id));
    expect(line).toMatchObject({ type: 'upload.ready', status: 200, error: null });
    // Exactly one event for the change, and it is the one the API lists.
    const events = await createDjcastClient({ baseUrl: http.url, token }).events.list({ type: 'upload.ready' });
    expect(events.data.map((e) => e.id)).toEqual([got.id]);
    expect(receiver.received.filter((r) => r.path === '/local-hook')).toHaveLength(1);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    rmSync(home, { recursive: true, force: true });
  }, 180_000);
});
