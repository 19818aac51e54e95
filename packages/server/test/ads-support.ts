// Test support for ads: a stream's ready pre-roll as the normalize job leaves it (rows and one stored segment),
// for tests that exercise the routes rather than the normalization.

import { newId } from '../src/core/ids.js';
import type { TestApp } from './harness.js';

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
