import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveRecorder, type ArchivedSegmentRecord } from './archive-recorder.js';
import { LocalBlobStore } from './blob/local.js';
import { HeartbeatSender } from './heartbeat.js';

const STREAM = 'str_01jd0v9m3x7k2p8q4r5s6t7u8v';
const PREFIX = `streams/${STREAM}/archive/arc_01jd0v9m3x7k2p8q4r5s6t7u8v/`;

describe('ArchiveRecorder', () => {
  let dir: string;
  let store: LocalBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-archive-recorder-'));
    store = new LocalBlobStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const record = async (msn: number): Promise<ArchivedSegmentRecord> => {
    const got = await store.get(`${PREFIX}seg-${msn}.json`);
    const chunks: Buffer[] = [];
    for await (const c of got!.body) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString()) as ArchivedSegmentRecord;
  };

  it('keeps nothing until the API names a prefix, then each segment with its record', async () => {
    const rec = new ArchiveRecorder(store, STREAM);
    rec.noteTitle('Before', 1000);
    await rec.keep(1, Buffer.from('one'), 6, 2000);
    expect(await store.list('streams/')).toEqual([]);

    rec.setPrefix(PREFIX);
    rec.noteTitle('Intro', 3000);
    await rec.keep(2, Buffer.from('two'), 6.02, 8000);
    await rec.keep(3, Buffer.from('three'), 5.98, 14_000);
    expect(await store.list(PREFIX)).toEqual([
      `${PREFIX}seg-2.json`,
      `${PREFIX}seg-2.ts`,
      `${PREFIX}seg-3.json`,
      `${PREFIX}seg-3.ts`,
    ]);
    expect(await record(2)).toEqual({
      msn: 2,
      duration: 6.02,
      ended_at_ms: 8000,
      title_at_start: 'Before',
      titles: [{ title: 'Intro', at_ms: 3000 }],
    });
    expect(await record(3)).toEqual({ msn: 3, duration: 5.98, ended_at_ms: 14_000, title_at_start: 'Intro', titles: [] });

    // Told to stop (null, or a prefix that is not this stream's archive): nothing more is kept.
    rec.setPrefix(null);
    await rec.keep(4, Buffer.from('four'), 6, 20_000);
    rec.setPrefix('streams/str_01jd0v9m3x7k2p8q4r5s6t7u8x/archive/arc_01jd0v9m3x7k2p8q4r5s6t7u8v/');
    rec.setPrefix('../../etc/');
    expect(rec.recordingTo).toBeNull();
    await rec.keep(5, Buffer.from('five'), 6, 26_000);
    expect((await store.list(PREFIX)).length).toBe(4);
  });

  it('repeats of the same title are not changes', async () => {
    const rec = new ArchiveRecorder(store, STREAM);
    rec.setPrefix(PREFIX);
    rec.noteTitle('A', 1);
    rec.noteTitle('A', 2);
    rec.noteTitle('B', 3);
    await rec.keep(0, Buffer.from('x'), 6, 6000);
    expect((await record(0)).titles).toEqual([
      { title: 'A', at_ms: 1 },
      { title: 'B', at_ms: 3 },
    ]);
  });
});

describe('heartbeat receipts', () => {
  it('hands the API’s receipt (archive_prefix) to the worker', async () => {
    const results: unknown[] = [];
    const sender = new HeartbeatSender({
      apiUrl: 'http://api.test',
      relayId: 'rly_1',
      token: 't',
      timeoutMs: 1000,
      fetch: (async () => Response.json({ relay_id: 'rly_1', archive_prefix: PREFIX })) as typeof fetch,
      onResult: (r) => results.push(r),
    });
    sender.enqueue({} as never, 'state');
    await sender.drain(1000);
    expect(results).toEqual([
      expect.objectContaining({ ok: true, receipt: expect.objectContaining({ archive_prefix: PREFIX }) }),
    ]);
  });
});
