// Which fields of uploads and playlists the human output shows, in order.
import type { Playlist, Upload } from '../services/media.js';
import { formatBytes, type Column, type Field } from './format.js';

const seconds = (s: number | null | undefined) => (s === null || s === undefined ? null : `${s.toFixed(1)} s`);

export const UPLOAD_FIELDS: Field<Upload>[] = [
  { header: 'id', get: (u) => u.id },
  { header: 'title', get: (u) => u.title },
  { header: 'status', get: (u) => (u.status === 'processing' ? `processing (${u.progress}%)` : u.status) },
  { header: 'reason', get: (u) => u.reason },
  { header: 'file', get: (u) => u.original_filename },
  { header: 'size', get: (u) => formatBytes(u.size_bytes) },
  { header: 'duration', get: (u) => seconds(u.duration_seconds) },
  { header: 'bitrate', get: (u) => (u.bitrate_kbps ? `${u.bitrate_kbps} kbps` : null) },
  { header: 'sample rate', get: (u) => (u.sample_rate ? `${u.sample_rate} Hz` : null) },
  { header: 'hls', get: (u) => u.hls_url },
  { header: 'created', get: (u) => u.created_at },
];

export const UPLOAD_COLUMNS: Column<Upload>[] = [
  { header: 'id', get: (u) => u.id },
  { header: 'title', get: (u) => u.title },
  { header: 'status', get: (u) => (u.status === 'processing' ? `processing ${u.progress}%` : u.status) },
  { header: 'duration', get: (u) => seconds(u.duration_seconds) },
  { header: 'size', get: (u) => formatBytes(u.size_bytes) },
  { header: 'created', get: (u) => u.created_at },
];

export const PLAYLIST_FIELDS: Field<Playlist>[] = [
  { header: 'id', get: (p) => p.id },
  { header: 'title', get: (p) => p.title },
  { header: 'status', get: (p) => p.status },
  { header: 'visibility', get: (p) => p.visibility },
  { header: 'monetization', get: (p) => (p.monetization_enabled ? 'on' : 'off') },
  { header: 'duration', get: (p) => seconds(p.duration_seconds) },
  { header: 'tracks', get: (p) => p.items.length },
  { header: 'listen (HLS)', get: (p) => p.stream_m3u8_url },
  { header: 'listen (MP3)', get: (p) => p.stream_mp3_url },
  { header: 'page', get: (p) => p.page_url },
  { header: 'artwork', get: (p) => p.artwork_url ?? '' },
  { header: 'created', get: (p) => p.created_at },
];

export const PLAYLIST_COLUMNS: Column<Playlist>[] = [
  { header: 'id', get: (p) => p.id },
  { header: 'title', get: (p) => p.title },
  { header: 'status', get: (p) => p.status },
  { header: 'visibility', get: (p) => p.visibility },
  { header: 'tracks', get: (p) => p.items.length },
  { header: 'duration', get: (p) => seconds(p.duration_seconds) },
  { header: 'mp3', get: (p) => p.stream_mp3_url },
];

export const PLAYLIST_ITEM_COLUMNS: Column<Playlist['items'][number]>[] = [
  { header: '#', get: (i) => i.position + 1 },
  { header: 'track', get: (i) => i.id },
  { header: 'source', get: (i) => i.upload_id ?? i.url },
  { header: 'title', get: (i) => i.title },
  { header: 'status', get: (i) => (i.reason ? `${i.status}: ${i.reason}` : i.status) },
  { header: 'duration', get: (i) => seconds(i.duration_seconds) },
];
