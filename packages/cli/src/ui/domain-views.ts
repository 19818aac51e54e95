// Which fields of custom domains the human output shows, in order.
import type { Domain } from '@djcast/sdk';
import type { Column, Field } from './format.js';

export const DOMAIN_FIELDS: Field<Domain>[] = [
  { header: 'id', get: (d) => d.id },
  { header: 'hostname', get: (d) => d.hostname },
  { header: 'podcast', get: (d) => d.podcast_id },
  { header: 'state', get: (d) => (d.failure_reason ? `${d.state}: ${d.failure_reason}` : d.state) },
  { header: 'feed', get: (d) => d.feed_url },
  { header: 'certificate expires', get: (d) => d.certificate?.not_after ?? '-' },
  { header: 'checked', get: (d) => d.last_checked_at ?? '-' },
];

export const DOMAIN_COLUMNS: Column<Domain>[] = [
  { header: 'id', get: (d) => d.id },
  { header: 'hostname', get: (d) => d.hostname },
  { header: 'state', get: (d) => d.state },
  { header: 'podcast', get: (d) => d.podcast_id },
];

/** The records to create, each with whether it was found, for stderr. */
export function recordLines(domain: Domain): string[] {
  return domain.records.map((r) => `${r.found ? 'found  ' : 'missing'}  ${r.type.padEnd(5)} ${r.name}  ->  ${r.value}`);
}
