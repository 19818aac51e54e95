import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from './tables.js';

type Q = Kysely<Database> | Transaction<Database>;

/** The tables whose rows have a time-sortable `id` and an `owner_id`. */
export type OwnedTable = {
  [K in keyof Database]: Database[K] extends { id: string; owner_id: string } ? K : never;
}[keyof Database];

export interface OwnedPageQuery {
  /** Only this owner's rows; every owner's when absent (an admin's listing). */
  ownerId?: string | undefined;
  /** The cursor: rows with a smaller id than this one. */
  startingAfter?: string | undefined;
  limit: number;
}

/**
 * One page of a table's rows, newest first, for cursor pagination
 * (`core/pagination.ts` `page()`): `limit + 1` rows, so the caller knows
 * whether there is more.
 */
export function listOwnedPage<T extends OwnedTable>(db: Q, table: T, opts: OwnedPageQuery): Promise<Selectable<Database[T]>[]> {
  // Kysely cannot follow column names through a table type parameter; every OwnedTable has these columns.
  const from = (db as unknown as Kysely<Record<string, { id: string; owner_id: string }>>).selectFrom(table as string);
  let q = from
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.ownerId) q = q.where('owner_id', '=', opts.ownerId);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.execute() as Promise<Selectable<Database[T]>[]>;
}
