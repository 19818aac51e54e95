import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database, UploadsTable } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertUpload = (db: Q, row: UploadsTable) => db.insertInto('uploads').values(row).execute();

export const findUpload = (db: Q, id: string) => db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();

export function findUploads(db: Q, ids: readonly string[]) {
  if (ids.length === 0) return Promise.resolve([] as UploadsTable[]);
  return db
    .selectFrom('uploads')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export function listUploads(
  db: Q,
  opts: { ownerId?: string; status?: UploadsTable['status']; startingAfter?: string; limit: number },
) {
  let q = db
    .selectFrom('uploads')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.ownerId) q = q.where('owner_id', '=', opts.ownerId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.execute();
}

export const updateUpload = (db: Q, id: string, patch: Updateable<UploadsTable>) =>
  db.updateTable('uploads').set(patch).where('id', '=', id).execute();

/** Moves a processing upload to its end state; false when it was not processing (finished by an earlier run, or deleted). */
export async function finishUpload(db: Q, id: string, patch: Updateable<UploadsTable>): Promise<boolean> {
  const r = await db.updateTable('uploads').set(patch).where('id', '=', id).where('status', '=', 'processing').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Moves progress forward only while still processing (a late report never overwrites ready/failed). */
export const updateProgress = (db: Q, id: string, progress: number, updatedAt: string) =>
  db
    .updateTable('uploads')
    .set({ progress, updated_at: updatedAt })
    .where('id', '=', id)
    .where('status', '=', 'processing')
    .where('progress', '<', progress)
    .execute();

export const deleteUpload = (db: Q, id: string) => db.deleteFrom('uploads').where('id', '=', id).execute();
