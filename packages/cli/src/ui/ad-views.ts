// Which fields of ad markers the human output shows, in order.
import type { AdBreak, AdMarker } from '@djcast/sdk';
import type { Column, Field } from './format.js';

const where = (m: AdMarker) =>
  m.position_seconds !== null
    ? `${Math.floor(m.position_seconds / 60)}:${String(m.position_seconds % 60).padStart(2, '0')}`
    : (m.starts_at ?? 'on demand');

export const AD_BREAK_FIELDS: Field<AdBreak>[] = [
  { header: 'id', get: (b) => b.id },
  { header: 'stream', get: (b) => b.stream_id },
  { header: 'ad', get: (b) => b.marker_id },
  { header: 'duration', get: (b) => `${b.duration_seconds} s` },
  { header: 'status', get: (b) => b.status },
  { header: 'requested', get: (b) => b.created_at },
];

export const AD_MARKER_FIELDS: Field<AdMarker>[] = [
  { header: 'id', get: (m) => m.id },
  { header: 'on', get: (m) => m.playlist_id ?? m.stream_id },
  { header: 'kind', get: (m) => m.kind },
  { header: 'at', get: where },
  { header: 'duration', get: (m) => `${m.duration_seconds} s` },
  { header: 'source', get: (m) => m.source.upload_id ?? m.source.url },
  { header: 'status', get: (m) => m.status },
  { header: 'reason', get: (m) => m.reason },
  { header: 'created', get: (m) => m.created_at },
];

export const AD_MARKER_COLUMNS: Column<AdMarker>[] = [
  { header: 'id', get: (m) => m.id },
  { header: 'kind', get: (m) => m.kind },
  { header: 'at', get: where },
  { header: 'duration', get: (m) => `${m.duration_seconds} s` },
  { header: 'source', get: (m) => m.source.upload_id ?? m.source.url },
  { header: 'status', get: (m) => m.status },
];
