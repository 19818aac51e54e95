import { z } from '@hono/zod-openapi';
import { listSchema } from '../../core/pagination.js';

export const DOMAIN_STATES = ['pending_verification', 'verified', 'issuing', 'active', 'failed'] as const;

const DnsRecordSchema = z
  .object({
    type: z.enum(['TXT', 'CNAME']),
    name: z.string().openapi({ example: '_djcast-challenge.podcast.djname.com' }),
    value: z.string().openapi({ example: 'djcast-verify=3f9c2a…' }),
  })
  .openapi('DnsRecord');

const ExpectedRecordSchema = DnsRecordSchema.extend({
  found: z.boolean().openapi({ description: 'Whether the last check saw this record with this value.' }),
}).openapi('ExpectedDnsRecord');

export const DomainSchema = z
  .object({
    id: z.string().openapi({ example: 'dom_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    owner_id: z.string(),
    podcast_id: z.string(),
    hostname: z.string().openapi({ example: 'podcast.djname.com', description: 'ASCII (IDNA) form.' }),
    state: z.enum(DOMAIN_STATES).openapi({
      description:
        '`pending_verification` (the TXT record is not there yet) -> `verified` (waiting for the CNAME) -> `issuing` (certificate ' +
        'ordered) -> `active` (served over HTTPS); `failed` with `failure_reason`.',
    }),
    failure_reason: z.string().nullable(),
    records: z.array(ExpectedRecordSchema).openapi({ description: 'The DNS records to create, and whether each was found.' }),
    records_found: z
      .object({ txt: z.array(z.string()), cname: z.array(z.string()) })
      .openapi({ description: 'What the last check read at the TXT and CNAME names.' }),
    cname_managed_by: z
      .string()
      .nullable()
      .openapi({ description: 'The DNS provider that created the CNAME; null when you create it yourself.' }),
    feed_url: z.string().openapi({ description: "The podcast's feed at this hostname, once active." }),
    certificate: z
      .object({ not_before: z.string(), not_after: z.string() })
      .nullable()
      .openapi({ description: 'The certificate served for this hostname, when there is one.' }),
    last_checked_at: z.string().nullable(),
    verified_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Domain');

export type DomainView = z.infer<typeof DomainSchema>;

export const DomainListSchema = listSchema(DomainSchema, 'DomainList');

export const CreateDomainBody = z
  .object({
    hostname: z.string().min(1).max(300).openapi({ example: 'podcast.djname.com' }),
    podcast_id: z
      .string()
      .regex(/^pod_[0-9a-z]{26}$/, 'must be a podcast id (pod_…)')
      .openapi({ example: 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
  })
  .strict()
  .openapi('CreateDomainRequest');

export type CreateDomainRequest = z.infer<typeof CreateDomainBody>;

export const DomainIdParam = z.object({
  id: z
    .string()
    .regex(/^dom_[0-9a-z]{26}$/, 'must be a domain id (dom_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'dom_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});
