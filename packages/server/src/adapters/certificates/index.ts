import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import type { FieldCipher } from '../../secrets.js';
import { OffCertificateIssuer, type AccountKeyStore, type CertificateIssuer } from './types.js';

export interface AcmeConfig {
  directoryUrl: string;
  email?: string;
  caFile?: string;
}

/** ACME when a directory is configured (acme-client imported only then); otherwise issuance is off and says so. */
export async function createCertificateIssuer(
  acme: AcmeConfig | null,
  db: Kysely<Database>,
  cipher: FieldCipher,
): Promise<CertificateIssuer> {
  if (!acme) return new OffCertificateIssuer();
  const { AcmeCertificateIssuer } = await import('./acme.js');
  return new AcmeCertificateIssuer({
    directoryUrl: acme.directoryUrl,
    email: acme.email,
    directoryCa: acme.caFile ? readFileSync(acme.caFile, 'utf8') : undefined,
    accounts: sealedAccountStore(db, cipher),
  });
}

/** The ACME account key in the database, sealed with the field cipher. */
export function sealedAccountStore(db: Kysely<Database>, cipher: FieldCipher): AccountKeyStore {
  return {
    async load(directoryUrl) {
      const row = await db.selectFrom('acme_accounts').selectAll().where('directory_url', '=', directoryUrl).executeTakeFirst();
      return row ? { keyPem: cipher.decrypt(row.key_sealed), accountUrl: row.account_url } : null;
    },
    async save(directoryUrl, keyPem, accountUrl) {
      const sealed = cipher.encrypt(keyPem);
      await db
        .insertInto('acme_accounts')
        .values({
          directory_url: directoryUrl,
          key_sealed: sealed,
          account_url: accountUrl,
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.column('directory_url').doUpdateSet({ key_sealed: sealed, account_url: accountUrl }))
        .execute();
    },
  };
}
