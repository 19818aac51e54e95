import { z } from 'zod';
import { CertificatesNotConfigured } from '../../adapters/certificates/types.js';
import { defineJob, jobType, type JobDefinition } from '../../jobs/definition.js';
import type { DomainsService } from './service.js';

const DomainPayload = z.object({ domain_id: z.string().regex(/^dom_[0-9a-z]{26}$/) });
type DomainPayload = z.infer<typeof DomainPayload>;

/** The poller: reads the TXT (then the CNAME) record of one domain, and enqueues itself again while it waits. */
export const CHECK_DOMAIN = jobType({ kind: 'domain.check', payload: DomainPayload, maxAttempts: 5 });
/** Orders the certificate of a verified domain whose CNAME is in place. */
export const ISSUE_CERTIFICATE = jobType({ kind: 'domain.issue_certificate', payload: DomainPayload, maxAttempts: 3 });
/** Renews an active domain's certificate 30 days before it expires (enqueued for then on the injected clock). */
export const RENEW_CERTIFICATE = jobType({ kind: 'domain.renew_certificate', payload: DomainPayload, maxAttempts: 5 });

export function domainJobs(domains: DomainsService): JobDefinition<DomainPayload>[] {
  return [
    defineJob(CHECK_DOMAIN, { run: (p) => domains.check(p.domain_id) }),
    defineJob(ISSUE_CERTIFICATE, {
      run: (p) => domains.issue(p.domain_id),
      // No CA configured: retrying will not help.
      isPermanent: (error) => error instanceof CertificatesNotConfigured,
      onFinalFailure: (p, error) => domains.issueFailed(p.domain_id, error),
    }),
    defineJob(RENEW_CERTIFICATE, { run: (p) => domains.renew(p.domain_id) }),
  ];
}
