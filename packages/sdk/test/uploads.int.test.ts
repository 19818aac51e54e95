// client.uploads and client.playlists against the real server in process, with
// its job worker transcoding real MP3s (generated with ffmpeg): uploads from a
// Blob and from streams (in process and over HTTP), progress, the server's
// refusals, the token renewed before an upload, waiting for the transcode, and
// playlists from creation to the listen URLs.
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3, generateTestWav } from '../../server/test/fixtures/media/generate.js';
import {
  createDjcastClient,
  DjcastApiError,
  DjcastConnectionError,
  DjcastTimeoutError,
  DjcastUploadFailedError,
  type DjcastClient,
  type DjcastClientOptions,
  type TokenPair,
  type Upload,
} from '../src/index.js';
import { listen, type Listening } from './support/listen.js';
import { manualClock, PASSWORD, startTestServer, uniqueEmail, type TestServer } from './support/server.js';

const LIMIT = 300_000;
const DAY_MS = 24 * 60 * 60 * 1000;
const dir = mkdtempSync(path.join(tmpdir(), 'djcast-sdk-uploads-'));
const file = (name: string) => path.join(dir, name);
const bytes: Record<string, Buffer> = {};

beforeAll(async () => {
  await generateTestMp3(file('set.mp3'), { seconds: 8 }); // ~130 kB
  await generateTestMp3(file('big.mp3'), { seconds: 30 }); // ~480 kB: over the limit, and over it plus the 64 KiB overhead
  await generateTestMp3(file('raw.mp3'), { seconds: 2, id3v2: false, xing: false });
  await generateTestWav(file('tone.wav'), 1);
  for (const name of ['set.mp3', 'big.mp3', 'raw.mp3', 'tone.wav']) bytes[name] = readFileSync(file(name));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function caught<T extends Error = DjcastApiError>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error('expected the call to fail');
}

/** Records every onProgress call and checks the values never go backwards. */
function progressLog() {
  const calls: [number, number | undefined][] = [];
  return {
    calls,
    onProgress: (sent: number, total: number | undefined) => void calls.push([sent, total]),
    sent: () => calls.map(([sent]) => sent),
    monotonic: () => calls.every(([sent], i) => i === 0 || sent >= calls[i - 1]![0]),
  };
}

/** A Node file stream as a web stream, and whether it was closed. */
function webFileStream(name: string) {
  const node = createReadStream(file(name), { highWaterMark: 32 * 1024 });
  return { node, stream: Readable.toWeb(node) as ReadableStream<Uint8Array> };
}

describe('client.uploads and client.playlists against the real server', () => {
  let server: TestServer;
  let http: Listening;
  let email: string;
  let client: DjcastClient;
  /** The same account over real HTTP (undici, a socket, chunked or sized bodies). */
  let overHttp: DjcastClient;

  beforeAll(async () => {
    server = await startTestServer({ DJCAST_UPLOAD_MAX_BYTES: String(LIMIT) });
    server.container.worker.start();
    http = await listen(server.fetch);
    email = uniqueEmail();
    await createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch }).auth.register({ email, password: PASSWORD });
    client = createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, credentials: { email, password: PASSWORD } });
    overHttp = createDjcastClient({ baseUrl: http.url, credentials: { email, password: PASSWORD } });
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
  });

  let ready: Upload;

  it('uploads a Blob with progress up to its size, and waitUntilReady follows the transcode to ready', async () => {
    const progress = progressLog();
    const blob = new File([bytes['set.mp3']!], 'Friday Set.mp3', { type: 'audio/mpeg' });
    const created = await client.uploads.create(blob, { onProgress: progress.onProgress });
    expect(created).toMatchObject({
      status: 'processing',
      title: 'Friday Set',
      original_filename: 'Friday Set.mp3',
      size_bytes: blob.size,
    });
    expect(progress.monotonic()).toBe(true);
    expect(progress.calls.at(-1)).toEqual([blob.size, blob.size]);

    const percents: number[] = [];
    ready = await client.uploads.waitUntilReady(created.id, {
      intervalMs: 100,
      timeoutMs: 90_000,
      onProgress: (p) => void percents.push(p),
    });
    expect(ready).toMatchObject({ id: created.id, status: 'ready', progress: 100, reason: null });
    expect(ready.hls_url).toContain(`/uploads/audio/${created.id}/hls/index.m3u8?token=`);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(percents.at(-1)).toBe(100);
    // The stored original is the file, byte for byte.
    const stored = await server.container.blobs.get(`uploads/audio/${created.id}/original.mp3`);
    expect(Buffer.concat(await stored!.body.toArray()).equals(bytes['set.mp3']!)).toBe(true);
  }, 120_000);

  it('uploads from a web stream without a size (chunked) and from a Node stream with one, over HTTP; both transcode', async () => {
    const unsized = webFileStream('set.mp3');
    const first = progressLog();
    const a = await overHttp.uploads.create(
      { stream: unsized.stream, name: 'unsized.mp3' },
      { title: 'Unsized', onProgress: first.onProgress },
    );
    expect(a).toMatchObject({ title: 'Unsized', original_filename: 'unsized.mp3', size_bytes: bytes['set.mp3']!.length });
    expect(first.monotonic()).toBe(true);
    expect(first.calls.at(-1)).toEqual([bytes['set.mp3']!.length, undefined]);
    expect(first.calls.length).toBeGreaterThan(1);

    const second = progressLog();
    const sized = createReadStream(file('set.mp3'));
    const b = await overHttp.uploads.create(
      { stream: sized, size: bytes['set.mp3']!.length, name: 'sized.mp3' },
      { onProgress: second.onProgress },
    );
    expect(b).toMatchObject({ title: 'sized', size_bytes: bytes['set.mp3']!.length });
    expect(second.monotonic()).toBe(true);
    expect(second.calls.at(-1)).toEqual([bytes['set.mp3']!.length, bytes['set.mp3']!.length]);

    const sent = server.sent.filter((r) => r.method === 'POST' && r.path === '/v1/uploads/audio').slice(-2);
    expect(sent[0]!.headers.get('content-length')).toBeNull();
    expect(Number(sent[1]!.headers.get('content-length'))).toBeGreaterThan(bytes['set.mp3']!.length);

    for (const upload of [a, b])
      expect((await overHttp.uploads.waitUntilReady(upload.id, { intervalMs: 100, timeoutMs: 90_000 })).status).toBe('ready');
  }, 120_000);

  it('maps a too-large file to 413 with limitBytes: at once from the declared length, or cut off mid-stream; the file stream is closed', async () => {
    const declared = await caught(client.uploads.create(new Blob([bytes['big.mp3']!]), { filename: 'big.mp3' }));
    expect(declared).toBeInstanceOf(DjcastApiError);
    expect(declared).toMatchObject({ status: 413, code: 'payload_too_large', limitBytes: LIMIT });
    expect(declared.problem?.limit_bytes).toBe(LIMIT);
    expect(declared.detail).toContain(String(LIMIT));

    // No size: the server reads up to its limit, then refuses; the rest of the file is never read.
    const progress = progressLog();
    const cutOff = webFileStream('big.mp3');
    const streamed = await caught(
      client.uploads.create({ stream: cutOff.stream, name: 'big.mp3' }, { onProgress: progress.onProgress }),
    );
    expect(streamed).toMatchObject({ status: 413, code: 'payload_too_large', limitBytes: LIMIT });
    expect(progress.monotonic()).toBe(true);
    expect(progress.sent().at(-1)).toBeLessThan(bytes['big.mp3']!.length);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cutOff.node.destroyed).toBe(true);

    // Over HTTP, with a size: the server refuses from the Content-Length before any of the file is sent.
    const sized = progressLog();
    const sizedOverHttp = await caught(
      overHttp.uploads.create(
        { stream: createReadStream(file('big.mp3')), size: bytes['big.mp3']!.length, name: 'big.mp3' },
        { onProgress: sized.onProgress },
      ),
    );
    expect(sizedOverHttp).toMatchObject({ status: 413, limitBytes: LIMIT });
    expect(sized.calls).toEqual([]);
    expect((await client.uploads.list({ limit: 100 })).data.some((u) => u.size_bytes === bytes['big.mp3']!.length)).toBe(false);
  }, 60_000);

  it('over HTTP, a stream with no size that runs past the limit stops early and its source is closed', async () => {
    // 48 MB read from disk on demand. The server answers 413 after its limit and closes the connection while
    // the client is still writing, so the client sees either that 413 or the broken connection, by timing.
    const huge = { produced: 0, closed: false };
    async function* fromDisk() {
      try {
        for (let i = 0; i < 100; i++) {
          for await (const chunk of createReadStream(file('big.mp3'))) {
            huge.produced += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        }
      } finally {
        huge.closed = true;
      }
    }
    const error = await caught<Error>(overHttp.uploads.create({ stream: fromDisk(), name: 'huge.mp3' }));
    if (error instanceof DjcastApiError) expect(error).toMatchObject({ status: 413, limitBytes: LIMIT });
    else {
      expect(error).toBeInstanceOf(DjcastConnectionError);
      expect(error.message).toMatch(/broke while the file was being sent \((EPIPE|ECONNRESET)\); uploads are not retried/);
    }
    expect(huge.produced).toBeLessThan(20 * bytes['big.mp3']!.length);
    expect(huge.closed).toBe(true);
  }, 60_000);

  it('maps a file that is not MP3 to 415 and a damaged MP3 to 422', async () => {
    const wav = await caught(client.uploads.create(new Blob([bytes['tone.wav']!]), { filename: 'tone.mp3' }));
    expect(wav).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(wav.detail).toMatch(/WAV/);
    const damaged = await caught(client.uploads.create(new Blob([bytes['raw.mp3']!.subarray(0, 1000)]), { filename: 'bad.mp3' }));
    expect(damaged).toMatchObject({ status: 422, code: 'unprocessable' });
  });

  it('gets, lists, iterates and deletes uploads', async () => {
    expect((await client.uploads.get(ready.id)).status).toBe('ready');
    const page = await client.uploads.list({ limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(page.has_more).toBe(true);
    const all: string[] = [];
    for await (const upload of client.uploads.iterate({ limit: 2 })) all.push(upload.id);
    expect(all).toContain(ready.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect((await client.uploads.list({ status: 'ready', limit: 100 })).data.every((u) => u.status === 'ready')).toBe(true);

    const extra = await client.uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'extra.mp3' });
    await client.uploads.waitUntilReady(extra.id, { intervalMs: 100, timeoutMs: 90_000 });
    await client.uploads.delete(extra.id);
    expect(await caught(client.uploads.get(extra.id))).toMatchObject({ status: 404, code: 'not_found' });
  }, 120_000);

  it('waitUntilReady throws DjcastUploadFailedError for a rejected upload and DjcastTimeoutError with the last state', async () => {
    const created = await client.uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'x.mp3' });
    await client.uploads.waitUntilReady(created.id, { intervalMs: 100, timeoutMs: 90_000 });
    const setRow = (values: { status: string; status_reason: string | null; progress: number }) =>
      server.container.db.kysely.updateTable('uploads').set(values).where('id', '=', created.id).execute();

    // The states the worker and the scanner leave behind, written directly.
    await setRow({ status: 'rejected', status_reason: 'Eicar-Test-Signature', progress: 0 });
    const rejected = await caught<DjcastUploadFailedError>(client.uploads.waitUntilReady(created.id));
    expect(rejected).toBeInstanceOf(DjcastUploadFailedError);
    expect(rejected).toMatchObject({ status: 'rejected', reason: 'Eicar-Test-Signature' });
    expect(rejected.upload.id).toBe(created.id);
    expect(rejected.message).toBe(`Upload ${created.id} rejected: Eicar-Test-Signature`);

    await setRow({ status: 'processing', status_reason: null, progress: 40 });
    const polls: number[] = [];
    const timedOut = await caught<DjcastTimeoutError<Upload>>(
      client.uploads.waitUntilReady(created.id, { timeoutMs: 300, intervalMs: 50, onProgress: (p) => void polls.push(p) }),
    );
    expect(timedOut).toBeInstanceOf(DjcastTimeoutError);
    expect(timedOut.message).toBe(`Timed out after 0.3s waiting for upload ${created.id} to be transcoded.`);
    expect(timedOut.last).toMatchObject({ id: created.id, status: 'processing', progress: 40 });
    expect(polls.length).toBeGreaterThan(1);
    expect(polls.every((p) => p === 40)).toBe(true);
  }, 120_000);

  it('playlists: create, get, list, iterate, update, listen, delete; the SDK carries the 422 and 409 problems', async () => {
    const second = await client.uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'second.mp3', title: 'Second' });
    await client.uploads.waitUntilReady(second.id, { intervalMs: 100, timeoutMs: 90_000 });

    const playlist = await client.playlists.create({ title: 'Sunday sets', items: [{ upload_id: ready.id }] });
    expect(playlist).toMatchObject({ title: 'Sunday sets', visibility: 'public', monetization_enabled: false, status: 'ready' });
    expect(playlist.items.map((i) => i.upload_id)).toEqual([ready.id]);
    expect(playlist.stream_mp3_url).toBe(`http://djcast.test/playlists/${playlist.id}/stream.mp3`);

    expect((await client.playlists.get(playlist.id)).id).toBe(playlist.id);
    const other = await client.playlists.create({ title: 'Other', items: [{ upload_id: second.id }], visibility: 'private' });
    const page = await client.playlists.list({ limit: 1 });
    expect(page.data.map((p) => p.id)).toEqual([other.id]);
    const titles: string[] = [];
    for await (const p of client.playlists.iterate({ limit: 1 })) titles.push(p.title);
    expect(titles).toEqual(['Other', 'Sunday sets']);

    // No per-item routes: add a track by replacing the list.
    const updated = await client.playlists.update(playlist.id, {
      title: 'Sunday sets, extended',
      items: [...client.playlists.itemInputs(playlist), { upload_id: second.id }],
    });
    expect(updated.title).toBe('Sunday sets, extended');
    expect(updated.items.map((i) => i.upload_id)).toEqual([ready.id, second.id]);
    expect(updated.duration_seconds).toBeGreaterThan(9);

    const urls = client.playlists.streamUrls(updated, { startSeconds: 2 });
    expect(urls.hls).toBe(updated.stream_m3u8_url);
    const mp3 = await server.fetch(new Request(urls.mp3));
    expect(mp3.status).toBe(200);
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
    expect((await mp3.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const hls = await server.fetch(new Request(urls.hls));
    expect(hls.status).toBe(200);
    expect(await hls.text()).toContain('#EXTM3U');

    const bad = await caught(client.playlists.create({ title: 'Bad', items: [{ upload_id: 'upl_00000000000000000000000000' }] }));
    expect(bad.status).toBe(422);
    expect(bad.errors.map((e) => e.path)).toEqual(['items.0.upload_id']);
    const inUse = await caught(client.uploads.delete(second.id));
    expect(inUse).toMatchObject({ status: 409, code: 'conflict' });

    await client.playlists.delete(playlist.id);
    await client.playlists.delete(other.id);
    expect(await caught(client.playlists.get(playlist.id))).toMatchObject({ status: 404, code: 'not_found' });
    await client.uploads.delete(second.id);
  }, 120_000);
});

describe('the token an upload carries', () => {
  // The server's clock: logging in "two days ago" yields an access token that
  // is already expired (24 h TTL) while its refresh token is still valid.
  const clock = manualClock();
  let server: TestServer;
  let email: string;

  beforeAll(async () => {
    server = await startTestServer({}, { clock: clock.now });
    email = uniqueEmail();
    await createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch }).auth.register({ email, password: PASSWORD });
  });
  afterAll(async () => {
    await server?.close();
  });

  const newClient = (extra: Partial<DjcastClientOptions> = {}) =>
    createDjcastClient({ baseUrl: server.baseUrl, fetch: server.fetch, ...extra });
  const since = (before: number) => server.sent.slice(before).map((r) => `${r.method} ${r.path}`);
  const uploadRequest = (before: number) => server.sent.slice(before).find((r) => r.path === '/v1/uploads/audio')!;

  /** Logs in while the server clock reads two days ago: the access token is dead on arrival. */
  async function expiredLogin(): Promise<TokenPair> {
    clock.set(Date.now() - 2 * DAY_MS);
    try {
      return await newClient().auth.login({ email, password: PASSWORD });
    } finally {
      clock.set(Date.now());
    }
  }

  it('an expired access token is refreshed before the upload is sent, and the upload is sent once', async () => {
    const stale = await expiredLogin();
    const seen: TokenPair[] = [];
    const client = newClient({
      token: stale.access_token,
      refreshToken: stale.refresh_token,
      onTokens: (t) => void seen.push(t),
    });

    const before = server.sent.length;
    const upload = await client.uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'fresh.mp3' });
    expect(upload.status).toBe('processing');
    expect(since(before)).toEqual(['GET /v1/me', 'POST /v1/auth/refresh', 'GET /v1/me', 'POST /v1/uploads/audio']);
    expect(seen).toHaveLength(1);
    expect(uploadRequest(before).headers.get('authorization')).toBe(`Bearer ${seen[0]!.access_token}`);
    // Uploads carry no Idempotency-Key: they are never sent again once the file was read.
    expect(uploadRequest(before).headers.has('idempotency-key')).toBe(false);
  });

  it('a token this client obtained and that has time left is used as is; an API token is sent as is', async () => {
    const client = newClient({ credentials: { email, password: PASSWORD } });
    let before = server.sent.length;
    await client.uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'a.mp3' });
    expect(since(before)).toEqual(['POST /v1/auth/login', 'GET /v1/me', 'POST /v1/uploads/audio']);
    before = server.sent.length;
    await client.uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'b.mp3' });
    expect(since(before)).toEqual(['POST /v1/uploads/audio']);

    const { token } = await client.tokens.create({ name: 'ci', scopes: ['uploads:write'] });
    before = server.sent.length;
    await newClient({ token }).uploads.create(new Blob([bytes['raw.mp3']!]), { filename: 'c.mp3' });
    expect(since(before)).toEqual(['POST /v1/uploads/audio']);
    expect(uploadRequest(before).headers.get('authorization')).toBe(`Bearer ${token}`);
  });

  it('a revoked session fails before any of the file is sent', async () => {
    const stale = await expiredLogin();
    await newClient().auth.logout(stale.refresh_token);
    const before = server.sent.length;
    const progress = progressLog();
    const client = newClient({ token: stale.access_token, refreshToken: stale.refresh_token });
    const error = await caught(client.uploads.create(new Blob([bytes['raw.mp3']!]), { onProgress: progress.onProgress }));
    expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(since(before)).toEqual(['GET /v1/me', 'POST /v1/auth/refresh']);
    expect(progress.calls).toEqual([]);
  });
});
