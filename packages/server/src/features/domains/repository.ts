import type { Kysely, Transaction, Updateable } from 'kysely';
import type { AcmeAccountsTable, Database, DomainCertificatesTable, DomainState, DomainsTable } from '../../db/tables.js';

import { listOwnedPage, type OwnedPageQuery } from '../../db/owned-page.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertDomain = (db: Q, row: DomainsTable) => db.insertInto('domains').values(row).execute();
export const findDomain = (db: Q, id: string) => db.selectFrom('domains').selectAll().where('id', '=', id).executeTakeFirst();

export const listDomains = (db: Q, opts: OwnedPageQuery) => listOwnedPage(db, 'domains', opts);

/** Claims of a hostname that prove ownership (verified or further along), any owner. */
export const verifiedClaimsOf = (db: Q, hostname: string) =>
  db
    .selectFrom('domains')
    .select(['id', 'owner_id', 'state'])
    .where('hostname', '=', hostname)
    .where('state', 'in', ['verified', 'issuing', 'active'])
    .execute();

export const claimsOf = (db: Q, hostname: string) =>
  db.selectFrom('domains').select(['id', 'owner_id', 'state']).where('hostname', '=', hostname).execute();

/** Moves a domain on only from the state the caller saw, so two checkers cannot both make the move. */
export async function transition(db: Q, id: string, from: DomainState, patch: Updateable<DomainsTable>): Promise<boolean> {
  const r = await db.updateTable('domains').set(patch).where('id', '=', id).where('state', '=', from).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export const updateDomain = (db: Q, id: string, patch: Updateable<DomainsTable>) =>
  db.updateTable('domains').set(patch).where('id', '=', id).execute();

export const deleteDomain = (db: Q, id: string) => db.deleteFrom('domains').where('id', '=', id).execute();

export const ownerEmail = async (db: Q, userId: string) =>
  (await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst())?.email ?? null;

export const findCertificate = (db: Q, domainId: string) =>
  db.selectFrom('domain_certificates').selectAll().where('domain_id', '=', domainId).executeTakeFirst();

/** The certificate to serve for a hostname: the active domain's. */
export const activeCertificateFor = (db: Q, hostname: string) =>
  db
    .selectFrom('domain_certificates as c')
    .innerJoin('domains as d', 'd.id', 'c.domain_id')
    .select(['c.domain_id', 'c.cert_pem', 'c.key_sealed', 'c.not_after', 'c.updated_at', 'd.podcast_id'])
    .where('d.hostname', '=', hostname)
    .where('d.state', '=', 'active')
    .executeTakeFirst();

/** The podcast an active hostname serves. */
export const activePodcastFor = async (db: Q, hostname: string) =>
  (
    await db
      .selectFrom('domains')
      .select('podcast_id')
      .where('hostname', '=', hostname)
      .where('state', '=', 'active')
      .executeTakeFirst()
  )?.podcast_id ?? null;

export async function upsertCertificate(db: Q, row: DomainCertificatesTable): Promise<void> {
  await db
    .insertInto('domain_certificates')
    .values(row)
    .onConflict((oc) =>
      oc.column('domain_id').doUpdateSet({
        cert_pem: row.cert_pem,
        key_sealed: row.key_sealed,
        not_before: row.not_before,
        not_after: row.not_after,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

export const certificateExpiries = (db: Q) =>
  db
    .selectFrom('domain_certificates as c')
    .innerJoin('domains as d', 'd.id', 'c.domain_id')
    .select(['c.hostname', 'c.not_after'])
    .where('d.state', '=', 'active')
    .execute();

/** Domains still waiting for their TXT record, created before `before`, whose DJ was not told yet. */
export const unverifiedSince = (db: Q, before: string) =>
  db
    .selectFrom('domains')
    .selectAll()
    .where('state', '=', 'pending_verification')
    .where('created_at', '<=', before)
    .where('unverified_notice_sent_at', 'is', null)
    .execute();

export async function claimUnverifiedNotice(db: Q, id: string, now: string): Promise<boolean> {
  const r = await db
    .updateTable('domains')
    .set({ unverified_notice_sent_at: now })
    .where('id', '=', id)
    .where('unverified_notice_sent_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export const findAccount = (db: Q, directoryUrl: string) =>
  db.selectFrom('acme_accounts').selectAll().where('directory_url', '=', directoryUrl).executeTakeFirst();

export async function saveAccount(db: Q, row: AcmeAccountsTable): Promise<void> {
  await db
    .insertInto('acme_accounts')
    .values(row)
    .onConflict((oc) => oc.column('directory_url').doUpdateSet({ key_sealed: row.key_sealed, account_url: row.account_url }))
    .execute();
}

export async function putChallenge(db: Q, token: string, keyAuthorization: string, hostname: string, now: string) {
  await db
    .insertInto('acme_challenges')
    .values({ token, key_authorization: keyAuthorization, hostname, created_at: now })
    .onConflict((oc) => oc.column('token').doUpdateSet({ key_authorization: keyAuthorization, hostname }))
    .execute();
}

export const removeChallenge = (db: Q, token: string) => db.deleteFrom('acme_challenges').where('token', '=', token).execute();

export const findChallenge = (db: Q, token: string) =>
  db.selectFrom('acme_challenges').selectAll().where('token', '=', token).executeTakeFirst();
