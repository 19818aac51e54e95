import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_accounts_and_streams.js';
import * as m0002 from './0002_jobs_and_outbox.js';

/** One migration set for both dialects, in order. Add new files here. */
export const migrations: Record<string, Migration> = {
  '0001_accounts_and_streams': m0001,
  '0002_jobs_and_outbox': m0002,
};
