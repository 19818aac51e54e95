import type { Kysely } from 'kysely';

// Custom domains: a DJ's hostname for a podcast, the TXT challenge that proves
// ownership, the state of verification and certificate issuance, and what the
// last DNS check found. Certificates (the key sealed with the field cipher),
// the ACME account key, and pending HTTP-01 challenges (any replica answers
// them) live beside it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('domains')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('podcast_id', 'varchar(40)', (c) => c.notNull().references('podcasts.id').onDelete('cascade'))
    .addColumn('hostname', 'varchar(253)', (c) => c.notNull())
    .addColumn('state', 'varchar(24)', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('txt_name', 'varchar(300)', (c) => c.notNull())
    .addColumn('txt_value', 'varchar(100)', (c) => c.notNull())
    .addColumn('cname_target', 'varchar(253)', (c) => c.notNull())
    .addColumn('cname_managed_by', 'varchar(20)')
    .addColumn('records_found', 'text', (c) => c.notNull())
    .addColumn('last_checked_at', 'varchar(32)')
    .addColumn('verified_at', 'varchar(32)')
    .addColumn('unverified_notice_sent_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('domains_owner').on('domains').columns(['owner_id', 'id']).execute();
  await db.schema.createIndex('domains_hostname').on('domains').column('hostname').execute();

  await db.schema
    .createTable('domain_certificates')
    .addColumn('domain_id', 'varchar(40)', (c) => c.primaryKey().references('domains.id').onDelete('cascade'))
    .addColumn('hostname', 'varchar(253)', (c) => c.notNull())
    .addColumn('cert_pem', 'text', (c) => c.notNull())
    .addColumn('key_sealed', 'text', (c) => c.notNull())
    .addColumn('not_before', 'varchar(32)', (c) => c.notNull())
    .addColumn('not_after', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('domain_certificates_hostname').on('domain_certificates').column('hostname').execute();

  await db.schema
    .createTable('acme_accounts')
    .addColumn('directory_url', 'varchar(500)', (c) => c.primaryKey())
    .addColumn('key_sealed', 'text', (c) => c.notNull())
    .addColumn('account_url', 'varchar(500)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('acme_challenges')
    .addColumn('token', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('key_authorization', 'varchar(400)', (c) => c.notNull())
    .addColumn('hostname', 'varchar(253)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('acme_challenges').execute();
  await db.schema.dropTable('acme_accounts').execute();
  await db.schema.dropTable('domain_certificates').execute();
  await db.schema.dropTable('domains').execute();
}
