import { randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Kysely, Transaction } from 'kysely';
import type { CertificateIssuer, ChallengeStore } from '../../adapters/certificates/types.js';
import type { DnsLookup, DnsProvider } from '../../adapters/dns/types.js';
import type { Mailer } from '../../adapters/mailer/index.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { page } from '../../core/pagination.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import type { Database, DomainState, DomainsTable } from '../../db/tables.js';
import { emitEvent } from '../../events/emit.js';
import { enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import type { FieldCipher } from '../../secrets.js';
import type { PodcastsService } from '../podcasts/service.js';
import { challengeRecordName, normalizeHostname } from './hostname.js';
import { CHECK_DOMAIN, ISSUE_CERTIFICATE, RENEW_CERTIFICATE } from './jobs.js';
import * as repo from './repository.js';
import type { CreateDomainRequest, DomainView } from './schemas.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface DomainSettings {
  /** The edge/CDN hostname every custom domain's CNAME points at. */
  cnameTarget: string;
  /** The platform's own domains: they and their subdomains cannot be claimed. */
  platformDomains: string[];
  /** How often the poller reads DNS for a domain that is waiting. */
  pollIntervalMs: number;
  /** A domain still unverified this long after it was added: one email to the DJ. */
  unverifiedNoticeAfterMs: number;
  /** A domain still unverified this long is given up (`failed`). */
  giveUpAfterMs: number;
  /** Renew a certificate this long before it expires. */
  renewBeforeMs: number;
}

export interface DomainsDeps {
  db: Kysely<Database>;
  jobs: JobQueue;
  mailer: Mailer;
  cipher: FieldCipher;
  lookup: DnsLookup;
  provider: DnsProvider;
  issuer: CertificateIssuer;
  podcasts: PodcastsService;
  logger: Logger;
  settings: DomainSettings;
  clock?: () => Date;
}

interface RecordsFound {
  txt: string[];
  cname: string[];
}

const stripDot = (name: string) => name.replace(/\.$/, '').toLowerCase();

/**
 * Custom domains: a DJ proves a hostname with a TXT record, points it at the
 * edge with a CNAME (created through the DNS provider when it holds the zone),
 * and gets a certificate; the server then answers HTTPS for it by SNI.
 */
export class DomainsService {
  private readonly clock: () => Date;
  private readonly contexts = new Map<string, { context: SecureContext; version: string; checkedAt: number }>();
  /** Who was told about a renewed certificate: SNI contexts are re-read at most this often per hostname. */
  private static readonly CONTEXT_RECHECK_MS = 5_000;

  constructor(private readonly deps: DomainsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  now(): Date {
    return this.clock();
  }

  async create(principal: Principal, input: CreateDomainRequest): Promise<DomainView> {
    const checked = normalizeHostname(input.hostname, this.deps.settings.platformDomains);
    if (!checked.ok) {
      throw new DomainError('validation_failed', `The hostname ${checked.reason}.`, {
        errors: [{ path: 'hostname', message: checked.reason, code: 'invalid_hostname' }],
      });
    }
    const hostname = checked.hostname;
    const podcast = await this.deps.podcasts.getOwned(principal, input.podcast_id);
    const now = this.clock();
    const row: DomainsTable = {
      id: newId('dom', now.getTime()),
      owner_id: podcast.owner_id,
      podcast_id: podcast.id,
      hostname,
      state: 'pending_verification',
      failure_reason: null,
      txt_name: challengeRecordName(hostname),
      txt_value: `djcast-verify=${randomBytes(16).toString('hex')}`,
      cname_target: stripDot(this.deps.settings.cnameTarget),
      cname_managed_by: null,
      records_found: JSON.stringify({ txt: [], cname: [] } satisfies RecordsFound),
      last_checked_at: null,
      verified_at: null,
      unverified_notice_sent_at: null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    };
    await this.deps.db.transaction().execute(async (tx) => {
      for (const claim of await repo.claimsOf(tx, hostname)) {
        if (claim.owner_id !== row.owner_id && ['verified', 'issuing', 'active'].includes(claim.state)) {
          throw new DomainError('conflict', `${hostname} is already verified by another account.`, { hostname });
        }
        if (claim.owner_id === row.owner_id && claim.state !== 'failed') {
          throw new DomainError('conflict', `You already added ${hostname} (${claim.id}).`, { hostname, domain_id: claim.id });
        }
      }
      await repo.insertDomain(tx, row);
      await enqueue(tx, CHECK_DOMAIN, { domain_id: row.id }, { ownerId: row.owner_id, resourceId: row.id, now });
    });
    this.deps.jobs.wake();
    return this.view(this.deps.db, row);
  }

  async list(principal: Principal, opts: { limit: number; starting_after?: string }) {
    const rows = await repo.listDomains(this.deps.db, {
      ownerId: isAdmin(principal) ? undefined : principal.userId,
      startingAfter: opts.starting_after,
      limit: opts.limit,
    });
    const result = page(rows, opts.limit);
    return { ...result, data: await Promise.all(result.data.map((r) => this.view(this.deps.db, r))) };
  }

  private async owned(principal: Principal, id: string): Promise<DomainsTable> {
    const row = await repo.findDomain(this.deps.db, id);
    if (!row) throw new NotFound('Domain', id);
    assertCanAccess(principal, row.owner_id, 'domain');
    return row;
  }

  async get(principal: Principal, id: string): Promise<DomainView> {
    return this.view(this.deps.db, await this.owned(principal, id));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const row = await this.owned(principal, id);
    if (row.cname_managed_by) {
      try {
        await this.deps.provider.deleteCname(row.hostname);
      } catch (error) {
        this.deps.logger.warn({ event: 'domain.cname_delete_failed', domain_id: id, err: error }, 'could not delete the CNAME');
      }
    }
    await this.deps.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('jobs').where('resource_id', '=', id).where('state', '=', 'queued').execute();
      await repo.deleteDomain(tx, id);
    });
    this.contexts.delete(row.hostname);
  }

  /** Checks DNS now (the DJ just created a record) and answers with what was found. */
  async verify(principal: Principal, id: string): Promise<DomainView> {
    await this.owned(principal, id);
    await this.step(id);
    return this.view(this.deps.db, (await repo.findDomain(this.deps.db, id))!);
  }

  /** The poller's job: one step, then again after the poll interval while the domain waits on DNS. */
  async check(id: string): Promise<void> {
    const state = await this.step(id);
    if (state === 'pending_verification' || state === 'verified') {
      const row = await repo.findDomain(this.deps.db, id);
      if (!row) return;
      const now = this.clock();
      await enqueue(
        this.deps.db,
        CHECK_DOMAIN,
        { domain_id: id },
        {
          ownerId: row.owner_id,
          resourceId: id,
          now,
          delayMs: this.deps.settings.pollIntervalMs,
        },
      );
    }
  }

  /**
   * One move along pending_verification -> verified -> issuing, as far as DNS
   * allows now. Returns the state it leaves the domain in (null: deleted).
   */
  private async step(id: string): Promise<DomainState | null> {
    let row = await repo.findDomain(this.deps.db, id);
    if (!row) return null;
    const now = this.clock();
    if (row.state === 'pending_verification') {
      const txt = await this.deps.lookup.txt(row.txt_name);
      const found = { ...this.found(row), txt };
      const verified = txt.includes(row.txt_value);
      const conflict = verified && (await repo.verifiedClaimsOf(this.deps.db, row.hostname)).some((c) => c.id !== row!.id);
      await this.deps.db.transaction().execute(async (tx) => {
        const base = { records_found: JSON.stringify(found), last_checked_at: now.toISOString(), updated_at: now.toISOString() };
        if (conflict) {
          const reason = `${row!.hostname} was verified by another account first.`;
          if (await repo.transition(tx, id, 'pending_verification', { ...base, state: 'failed', failure_reason: reason }))
            await this.emit(tx, id, 'domain.failed', now);
        } else if (verified) {
          if (
            await repo.transition(tx, id, 'pending_verification', { ...base, state: 'verified', verified_at: now.toISOString() })
          )
            await this.emit(tx, id, 'domain.verified', now);
        } else {
          const age = now.getTime() - Date.parse(row!.created_at);
          if (age >= this.deps.settings.giveUpAfterMs) {
            const hours = Math.round(this.deps.settings.giveUpAfterMs / 3_600_000);
            const reason = `The TXT record ${row!.txt_name} was not found within ${hours} hours.`;
            if (await repo.transition(tx, id, 'pending_verification', { ...base, state: 'failed', failure_reason: reason }))
              await this.emit(tx, id, 'domain.failed', now);
          } else {
            await repo.transition(tx, id, 'pending_verification', base);
          }
        }
      });
      this.deps.jobs.wake();
      row = (await repo.findDomain(this.deps.db, id))!;
      if (row.state === 'pending_verification') await this.maybeNotifyUnverified(row, now);
    }
    if (row.state === 'verified') {
      let managedBy = row.cname_managed_by;
      if (!managedBy && (await this.deps.provider.upsertCname(row.hostname, row.cname_target))) {
        managedBy = this.deps.provider.kind;
        await repo.updateDomain(this.deps.db, id, { cname_managed_by: managedBy, updated_at: now.toISOString() });
      }
      const cname = (await this.deps.lookup.cname(row.hostname)).map(stripDot);
      const found = { ...this.found(row), cname };
      const inPlace = cname.includes(row.cname_target);
      await this.deps.db.transaction().execute(async (tx) => {
        const base = { records_found: JSON.stringify(found), last_checked_at: now.toISOString(), updated_at: now.toISOString() };
        if (inPlace && (await repo.transition(tx, id, 'verified', { ...base, state: 'issuing' }))) {
          await enqueue(tx, ISSUE_CERTIFICATE, { domain_id: id }, { ownerId: row!.owner_id, resourceId: id, now });
        } else {
          await repo.transition(tx, id, 'verified', base);
        }
      });
      this.deps.jobs.wake();
    }
    return (await repo.findDomain(this.deps.db, id))?.state ?? null;
  }

  private found(row: DomainsTable): RecordsFound {
    return JSON.parse(row.records_found) as RecordsFound;
  }

  /** One email, once, when the TXT record is still missing after the configured time. */
  private async maybeNotifyUnverified(row: DomainsTable, now: Date): Promise<void> {
    if (row.unverified_notice_sent_at) return;
    const age = now.getTime() - Date.parse(row.created_at);
    if (age < this.deps.settings.unverifiedNoticeAfterMs) return;
    const to = await repo.ownerEmail(this.deps.db, row.owner_id);
    if (!to || !(await repo.claimUnverifiedNotice(this.deps.db, row.id, now.toISOString()))) return;
    try {
      await this.deps.mailer.send({ to, kind: 'domain.verification_failed', ...unverifiedMail(row, this.found(row), age) });
    } catch (error) {
      // Not sent: let the next check try again.
      await repo.updateDomain(this.deps.db, row.id, { unverified_notice_sent_at: null });
      throw error;
    }
  }

  /** Orders the certificate (the issuance job). A failure is retried by the job, then recorded by issueFailed. */
  async issue(id: string): Promise<void> {
    const row = await repo.findDomain(this.deps.db, id);
    if (!row || row.state !== 'issuing') return;
    const cert = await this.deps.issuer.issue(row.hostname, this.challengeStore());
    const now = this.clock();
    await this.deps.db.transaction().execute(async (tx) => {
      await this.storeCertificate(tx, row, cert, now);
      if (await repo.transition(tx, id, 'issuing', { state: 'active', failure_reason: null, updated_at: now.toISOString() })) {
        await this.emit(tx, id, 'domain.active', now);
        await this.scheduleRenewal(tx, row, cert.notAfter, now);
      }
    });
    this.deps.jobs.wake();
    this.contexts.delete(row.hostname);
  }

  async issueFailed(id: string, error: unknown): Promise<void> {
    const now = this.clock();
    const reason = `The certificate could not be issued: ${error instanceof Error ? error.message : String(error)}`.slice(
      0,
      1000,
    );
    await this.deps.db.transaction().execute(async (tx) => {
      if (await repo.transition(tx, id, 'issuing', { state: 'failed', failure_reason: reason, updated_at: now.toISOString() }))
        await this.emit(tx, id, 'domain.failed', now);
    });
    this.deps.jobs.wake();
  }

  /** The renewal job: renews when within the renewal window, otherwise waits until it is. */
  async renew(id: string): Promise<void> {
    const row = await repo.findDomain(this.deps.db, id);
    if (!row || row.state !== 'active') return;
    const current = await repo.findCertificate(this.deps.db, id);
    const now = this.clock();
    if (current && Date.parse(current.not_after) - this.deps.settings.renewBeforeMs > now.getTime()) {
      await this.scheduleRenewal(this.deps.db, row, new Date(current.not_after), now);
      return;
    }
    const cert = await this.deps.issuer.issue(row.hostname, this.challengeStore());
    await this.deps.db.transaction().execute(async (tx) => {
      await this.storeCertificate(tx, row, cert, now);
      await this.scheduleRenewal(tx, row, cert.notAfter, now);
    });
    this.contexts.delete(row.hostname);
    this.deps.logger.info(
      { event: 'domain.certificate_renewed', domain_id: id, not_after: cert.notAfter.toISOString() },
      'certificate renewed',
    );
  }

  private async scheduleRenewal(tx: Q, row: DomainsTable, notAfter: Date, now: Date): Promise<void> {
    const delayMs = Math.max(0, notAfter.getTime() - this.deps.settings.renewBeforeMs - now.getTime());
    await enqueue(tx, RENEW_CERTIFICATE, { domain_id: row.id }, { ownerId: row.owner_id, resourceId: row.id, now, delayMs });
  }

  private async storeCertificate(
    tx: Q,
    row: DomainsTable,
    cert: { certPem: string; keyPem: string; notBefore: Date; notAfter: Date },
    now: Date,
  ): Promise<void> {
    await repo.upsertCertificate(tx, {
      domain_id: row.id,
      hostname: row.hostname,
      cert_pem: cert.certPem,
      key_sealed: this.deps.cipher.encrypt(cert.keyPem),
      not_before: cert.notBefore.toISOString(),
      not_after: cert.notAfter.toISOString(),
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    });
  }

  private challengeStore(): ChallengeStore {
    return {
      put: (token, keyAuthorization, hostname) =>
        repo.putChallenge(this.deps.db, token, keyAuthorization, hostname, this.clock().toISOString()),
      remove: async (token) => {
        await repo.removeChallenge(this.deps.db, token);
      },
    };
  }

  /** The key authorization for an HTTP-01 token, or null (served at /.well-known/acme-challenge/{token}). */
  async challengeAnswer(token: string): Promise<string | null> {
    return (await repo.findChallenge(this.deps.db, token))?.key_authorization ?? null;
  }

  /** The podcast an active custom hostname serves, or null. */
  podcastForHost(hostname: string): Promise<string | null> {
    return repo.activePodcastFor(this.deps.db, stripDot(hostname));
  }

  /**
   * The TLS context for an SNI name: only an active domain's own certificate,
   * re-read from the database when it changed (a renewal replaces it in place,
   * without a restart). Unknown names get none.
   */
  async secureContextFor(servername: string): Promise<SecureContext | null> {
    const hostname = stripDot(servername);
    const cached = this.contexts.get(hostname);
    const nowMs = Date.now();
    if (cached && nowMs - cached.checkedAt < DomainsService.CONTEXT_RECHECK_MS) return cached.context;
    const row = await repo.activeCertificateFor(this.deps.db, hostname);
    if (!row) {
      this.contexts.delete(hostname);
      return null;
    }
    const version = `${row.domain_id}:${row.updated_at}`;
    if (cached && cached.version === version) {
      cached.checkedAt = nowMs;
      return cached.context;
    }
    const context = createSecureContext({ cert: row.cert_pem, key: this.deps.cipher.decrypt(row.key_sealed) });
    this.contexts.set(hostname, { context, version, checkedAt: nowMs });
    return context;
  }

  certificateExpiries() {
    return repo.certificateExpiries(this.deps.db);
  }

  private async emit(tx: Q, id: string, type: 'domain.verified' | 'domain.active' | 'domain.failed', now: Date) {
    const row = (await repo.findDomain(tx, id))!;
    await emitEvent(tx, { type, ownerId: row.owner_id, object: await this.view(tx, row), now });
  }

  private async view(db: Q, row: DomainsTable): Promise<DomainView> {
    const found = this.found(row);
    const cert = await repo.findCertificate(db, row.id);
    const txtFound = found.txt.includes(row.txt_value);
    const cnameFound = found.cname.map(stripDot).includes(row.cname_target);
    return {
      id: row.id,
      owner_id: row.owner_id,
      podcast_id: row.podcast_id,
      hostname: row.hostname,
      state: row.state,
      failure_reason: row.failure_reason,
      records: [
        { type: 'TXT', name: row.txt_name, value: row.txt_value, found: txtFound },
        { type: 'CNAME', name: row.hostname, value: row.cname_target, found: cnameFound },
      ],
      records_found: found,
      cname_managed_by: row.cname_managed_by,
      feed_url: `https://${row.hostname}/rss.xml`,
      certificate: cert ? { not_before: cert.not_before, not_after: cert.not_after } : null,
      last_checked_at: row.last_checked_at,
      verified_at: row.verified_at,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}

/** The troubleshooting email (pure: the records expected and what DNS answered). */
export function unverifiedMail(row: DomainsTable, found: RecordsFound, ageMs: number): { subject: string; text: string } {
  const hours = Math.floor(ageMs / 3_600_000);
  const seen = found.txt.length > 0 ? found.txt.map((v) => `    "${v}"`).join('\n') : '    (no TXT record at this name)';
  return {
    subject: `${row.hostname} is not verified yet`,
    text:
      `You added ${row.hostname} to djcast ${hours} hours ago (${row.id}), and we still cannot find its verification record.\n\n` +
      `Records expected:\n` +
      `  TXT   ${row.txt_name}\n    "${row.txt_value}"\n` +
      `  CNAME ${row.hostname}\n    ${row.cname_target}\n\n` +
      `Records found at ${row.txt_name}:\n${seen}\n\n` +
      `Troubleshooting:\n` +
      `  - Create the TXT record at your DNS provider exactly as above (some providers add the zone name themselves: enter ` +
      `only "${relativeName(row.txt_name)}" there).\n` +
      `  - DNS changes can take up to the record's TTL to be visible; check with: dig TXT ${row.txt_name}\n` +
      `  - Then run: djcast domain verify ${row.hostname} --wait\n`,
  };
}

/** The record name without its last two labels, as many DNS dashboards want it entered. */
function relativeName(name: string): string {
  return name.split('.').slice(0, -2).join('.');
}
