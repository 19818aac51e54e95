// Which fields of each API object the human output shows, in order.
import type { ApiToken, CreatedApiToken, Stream, User } from '@djcast/sdk';
import type { Column, Field } from './format.js';

export const USER_FIELDS: Field<User>[] = [
  { header: 'id', get: (u) => u.id },
  { header: 'email', get: (u) => u.email },
  { header: 'name', get: (u) => u.display_name },
  { header: 'role', get: (u) => u.role },
  { header: 'scopes', get: (u) => u.scopes },
  { header: 'created', get: (u) => u.created_at },
];

export const TOKEN_COLUMNS: Column<ApiToken>[] = [
  { header: 'id', get: (t) => t.id },
  { header: 'name', get: (t) => t.name },
  { header: 'prefix', get: (t) => t.prefix },
  { header: 'scopes', get: (t) => t.scopes },
  { header: 'expires', get: (t) => t.expires_at },
  { header: 'last used', get: (t) => t.last_used_at },
];

export const CREATED_TOKEN_FIELDS: Field<CreatedApiToken>[] = [
  { header: 'id', get: (t) => t.id },
  { header: 'name', get: (t) => t.name },
  { header: 'scopes', get: (t) => t.scopes },
  { header: 'expires', get: (t) => t.expires_at },
  { header: 'token', get: (t) => t.token },
];

export const STREAM_COLUMNS: Column<Stream>[] = [
  { header: 'id', get: (s) => s.id },
  { header: 'name', get: (s) => s.name },
  { header: 'status', get: (s) => s.status },
  { header: 'visibility', get: (s) => s.visibility },
  { header: 'source', get: (s) => s.source_url },
  { header: 'created', get: (s) => s.created_at },
];

export const STREAM_FIELDS: Field<Stream>[] = [
  { header: 'id', get: (s) => s.id },
  { header: 'name', get: (s) => s.name },
  { header: 'status', get: (s) => s.status },
  { header: 'source', get: (s) => s.source_url },
  { header: 'source kind', get: (s) => s.source_kind },
  { header: 'mount', get: (s) => s.mount },
  { header: 'visibility', get: (s) => s.visibility },
  { header: 'monetization', get: (s) => (s.monetization_enabled ? 'on' : 'off') },
  { header: 'credentials', get: (s) => (s.has_source_credentials ? 'stored' : 'none') },
  { header: 'playback', get: (s) => s.playback_url },
  { header: 'page', get: (s) => s.page_url },
  { header: 'created', get: (s) => s.created_at },
  { header: 'updated', get: (s) => s.updated_at },
];
