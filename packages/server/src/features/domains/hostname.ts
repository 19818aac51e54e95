import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export type HostnameCheck = { ok: true; hostname: string } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A DJ's hostname as the platform stores it: IDNA (punycode) ASCII, lower
 * case, no trailing dot. Refuses IP addresses, wildcards, single labels, and
 * the platform's own domain and anything under it.
 */
export function normalizeHostname(input: string, platformDomains: readonly string[]): HostnameCheck {
  const raw = input.trim().replace(/\.$/, '');
  if (raw.includes('*')) return { ok: false, reason: 'must not be a wildcard; add each hostname on its own' };
  const unbracketed = raw.replace(/^\[(.*)\]$/, '$1');
  if (isIP(unbracketed) !== 0) return { ok: false, reason: 'must be a host name, not an IP address' };
  if (/[/:@?#\s]/.test(raw)) return { ok: false, reason: 'must be a bare host name (no scheme, port or path)' };
  const ascii = domainToASCII(raw);
  if (!ascii) return { ok: false, reason: 'is not a valid host name' };
  // The URL host parser turns some numeric forms ("127.1", "0x7f.1") into IPv4 addresses.
  if (isIP(ascii) !== 0) return { ok: false, reason: 'must be a host name, not an IP address' };
  if (ascii.length > 253) return { ok: false, reason: 'is longer than 253 characters' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, reason: 'must be a fully qualified name such as podcast.example.com' };
  if (!labels.every((l) => LABEL.test(l))) return { ok: false, reason: 'is not a valid host name' };
  if (/^[0-9]+$/.test(labels.at(-1)!)) return { ok: false, reason: 'is not a valid host name' };
  for (const platform of platformDomains) {
    const own = platform.toLowerCase().replace(/\.$/, '');
    if (own && (ascii === own || ascii.endsWith(`.${own}`))) {
      return { ok: false, reason: `must not be the platform's own domain (${own})` };
    }
  }
  return { ok: true, hostname: ascii };
}

/** The TXT record that proves ownership of `hostname`. */
export const challengeRecordName = (hostname: string) => `_djcast-challenge.${hostname}`;
