import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_accounts_and_streams.js';

/** One migration set for both dialects, in order. Add new files here. */
export const migrations: Record<string, Migration> = {
  '0001_accounts_and_streams': m0001,
};
