// The virus scan with a real clamd (test/clamd.ts: a temp database whose
// only signature matches the EICAR test string). An MP3 carrying EICAR in an
// ID3 frame is a valid upload that clamd must flag: it ends up `rejected`
// with the signature named and its media deleted; a clean one gets ready.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, EICAR_SIGNATURE, startClamd, type ClamdHarness } from './clamd.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { id3WithPrivateFrame, postUpload, waitForUpload, type UploadJson } from './uploads-support.js';

let clamd: ClamdHarness;
let clean: Buffer;
let infected: Buffer;
const dir = mkdtempSync(path.join(tmpdir(), 'djcast-scan-'));

beforeAll(async () => {
  clamd = await startClamd();
  clean = readFileSync(await generateTestMp3(path.join(dir, 'clean.mp3'), { seconds: 3 }));
  const bare = readFileSync(await generateTestMp3(path.join(dir, 'bare.mp3'), { seconds: 3, id3v2: false }));
  infected = Buffer.concat([id3WithPrivateFrame(Buffer.from(EICAR, 'latin1')), bare]);
}, 120_000);
afterAll(async () => {
  await clamd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(DIALECTS)('virus scanning uploads with clamd on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_CLAMAV_HOST: clamd.host, DJCAST_CLAMAV_PORT: String(clamd.port) });
    dj = await signUp(t);
    t.container.worker.start();
  });
  afterAll(() => t.close());

  it('says in /healthz that clamav is the live virus scanner', async () => {
    const health = (await (await t.request('GET', '/healthz')).json()) as { backends: Record<string, string> };
    expect(health.backends.virus_scan).toBe('clamav');
  });

  it('rejects an infected MP3 after upload, names the signature, and deletes its media', async () => {
    const res = await postUpload(t, dj.token, infected, { filename: 'infected.mp3' });
    expect(res.status, await res.clone().text()).toBe(201); // it is a valid MP3; the scan runs in the job
    const { id } = (await res.json()) as UploadJson;
    const { upload } = await waitForUpload(t, dj.token, id);
    expect(upload.status).toBe('rejected');
    expect(upload.reason).toContain(EICAR_SIGNATURE);
    expect(upload.hls_url).toBeNull();
    expect(await t.container.blobs.list(`uploads/audio/${id}/`)).toEqual([]);
  });

  it('passes a clean MP3 on to the transcode', async () => {
    const { id } = (await (await postUpload(t, dj.token, clean)).json()) as UploadJson;
    const { upload } = await waitForUpload(t, dj.token, id);
    expect(upload.status).toBe('ready');
    expect(upload.reason).toBeNull();
  });
});

describe('virus scanning off (the embedded default)', () => {
  it('says so in /healthz and lets uploads through unscanned', async () => {
    const t = await createTestApp('sqlite');
    try {
      const health = (await (await t.request('GET', '/healthz')).json()) as { backends: Record<string, string> };
      expect(health.backends.virus_scan).toBe('off');
    } finally {
      await t.close();
    }
  });
});
