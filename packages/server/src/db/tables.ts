/**
 * Table types. Timestamps are ISO-8601 UTC strings written by the app (they
 * sort and compare the same on SQLite and Postgres); booleans are 0/1
 * integers; JSON is text. One schema, both dialects.
 */
export interface UsersTable {
  id: string;
  email: string;
  email_normalized: string;
  display_name: string | null;
  password_hash: string;
  role: 'dj' | 'listener' | 'admin';
  created_at: string;
  updated_at: string;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  scopes: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface RateLimitsTable {
  key: string;
  window_start: string;
  count: number;
}

export interface StreamsTable {
  id: string;
  owner_id: string;
  name: string;
  source_url: string;
  mount: string;
  visibility: 'public' | 'private';
  monetization_enabled: number;
  source_kind: string | null;
  source_username: string | null;
  /** AES-256-GCM ciphertext of the source password; never returned. */
  source_password_enc: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  max_attempts: number;
  run_after: string;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface OutboxTable {
  id: string;
  to_address: string;
  subject: string;
  body_text: string;
  kind: string;
  created_at: string;
  sent_at: string | null;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  api_tokens: ApiTokensTable;
  rate_limits: RateLimitsTable;
  streams: StreamsTable;
  jobs: JobsTable;
  outbox: OutboxTable;
}
