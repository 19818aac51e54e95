// Test support for ads: a stream's ready pre-roll as the normalize job leaves it (rows and one stored segment),
// for tests that exercise the routes rather than the normalization; and a playlist with a real, normalized
// mid-roll, for tests that play one.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { newId } from '../src/core/ids.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import type { TestApp } from './harness.js';
import { postUpload, waitFor, waitForUpload, type UploadJson } from './uploads-support.js';

/** Inserts a ready pre-roll of one 6 s segment (`segment_00000.ts`) on the stream; returns the marker id. */
export async function insertReadyPreroll(t: TestApp, ownerId: string, streamId: string, uploadId: string): Promise<string> {
  const now = new Date().toISOString();
  const rendition = `adr_${newId('adm').slice(4).padEnd(32, '0')}`;
  await t.container.db.kysely
    .insertInto('ad_renditions')
    .values({
      id: rendition,
      owner_id: ownerId,
      source_upload_id: uploadId,
      source_url: null,
      target: '{}',
      status: 'ready',
      reason: null,
      mp3_key: null,
      audio_start: null,
      audio_end: null,
      seek_index: null,
      duration_seconds: 6,
      hls_prefix: `ads/${rendition}/hls/`,
      hls_segments: JSON.stringify([{ uri: 'segment_00000.ts', duration: 6 }]),
      created_at: now,
      updated_at: now,
    })
    .execute();
  const marker = newId('adm');
  await t.container.db.kysely
    .insertInto('ad_markers')
    .values({
      id: marker,
      owner_id: ownerId,
      playlist_id: null,
      stream_id: streamId,
      kind: 'pre-roll',
      position_seconds: null,
      starts_at: null,
      duration_seconds: 6,
      source_upload_id: uploadId,
      source_url: null,
      rendition_id: rendition,
      created_at: now,
    })
    .execute();
  await t.container.blobs.put(`ads/${rendition}/hls/segment_00000.ts`, Buffer.alloc(188 * 4, 3), { contentType: 'video/mp2t' });
  return marker;
}

export interface MidrollPlaylist {
  playlistId: string;
  markerId: string;
  /** The marker's status in the answer that created it (`pending` until the ad is normalized). */
  createdStatus: string;
  programmeFile: string;
  adFile: string;
}

/**
 * A playlist of one programme upload with a mid-roll of an ad upload, both real tone MP3s
 * made in `dir`, the ad normalized by the job worker (real FFmpeg): the fixture of the
 * tests that play a mid-roll. The worker is left running.
 */
export async function playlistWithMidroll(
  t: TestApp,
  token: string,
  opts: {
    dir: string;
    tag: string;
    programme: { seconds: number; frequency: number };
    ad: { seconds: number; frequency: number };
    marker: { position: number; duration: number };
  },
): Promise<MidrollPlaylist> {
  const programmeFile = await generateTestMp3(path.join(opts.dir, `programme-${opts.tag}.mp3`), opts.programme);
  const adFile = await generateTestMp3(path.join(opts.dir, `ad-${opts.tag}.mp3`), opts.ad);
  const ids: string[] = [];
  for (const file of [programmeFile, adFile])
    ids.push(
      ((await (await postUpload(t, token, readFileSync(file), { filename: path.basename(file) })).json()) as UploadJson).id,
    );
  t.container.worker.start();
  for (const id of ids) expect((await waitForUpload(t, token, id)).upload.status).toBe('ready');
  const created = await t.request('POST', '/v1/playlists', {
    token,
    body: { title: 'With a mid-roll', items: [{ upload_id: ids[0] }] },
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const playlistId = ((await created.json()) as { id: string }).id;
  const marker = await t.request('POST', `/v1/playlists/${playlistId}/ad-markers`, {
    token,
    body: {
      position_seconds: opts.marker.position,
      duration_seconds: opts.marker.duration,
      source: { upload_id: ids[1] },
      kind: 'mid-roll',
    },
  });
  expect(
    marker.status,
    `${await marker.clone().text()} ${JSON.stringify(t.logs.filter((l) => l.err || (l.level as number) >= 50)).slice(0, 3000)}`,
  ).toBe(201);
  const body = (await marker.json()) as { id: string; status: string };
  await waitFor(
    'the ad to be normalized',
    async () => {
      const res = await t.request('GET', `/v1/ad-markers/${body.id}`, { token });
      const m = (await res.json()) as { status: string; reason: string | null };
      if (m.status === 'failed') throw new Error(`normalization failed: ${m.reason}`);
      return m.status === 'ready' ? m : null;
    },
    120_000,
  );
  return { playlistId, markerId: body.id, createdStatus: body.status, programmeFile, adFile };
}
