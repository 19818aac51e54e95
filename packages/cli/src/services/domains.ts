import type { DjcastClient, Domain } from '@djcast/sdk';
import { CliError } from './errors.js';

/** A domain by id (dom_…) or by hostname. */
export async function findDomain(client: DjcastClient, idOrHost: string): Promise<Domain> {
  if (/^dom_[0-9a-z]{26}$/.test(idOrHost)) return client.domains.get(idOrHost);
  const host = idOrHost.trim().toLowerCase().replace(/\.$/, '');
  for await (const d of client.domains.iterate({ limit: 100 })) if (d.hostname === host) return d;
  throw new CliError(`No domain ${idOrHost} on your account.`, {
    code: 'not_found',
    hint: 'List them with `djcast domain list`.',
  });
}

/** "10m", "90s", "1h" or plain seconds, in seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)\s*(s|m|h)?$/.exec(value.trim());
  if (!m) throw new CliError(`Not a duration: ${value}`, { code: 'usage', exitCode: 2, hint: 'Use 90s, 10m or 1h.' });
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}
