import { describe, expect, it } from 'vitest';
import { challengeRecordName, normalizeHostname } from './hostname.js';

const platform = ['djcast.example'];
const ok = (input: string) => {
  const r = normalizeHostname(input, platform);
  if (!r.ok) throw new Error(`${input}: ${r.reason}`);
  return r.hostname;
};
const reason = (input: string) => {
  const r = normalizeHostname(input, platform);
  if (r.ok) throw new Error(`${input} was accepted as ${r.hostname}`);
  return r.reason;
};

describe('normalizeHostname', () => {
  it('lower-cases, strips a trailing dot and converts IDNA to punycode', () => {
    expect(ok('Podcast.DJName.com.')).toBe('podcast.djname.com');
    expect(ok('bücher.example.de')).toBe('xn--bcher-kva.example.de');
    expect(ok('xn--bcher-kva.example.de')).toBe('xn--bcher-kva.example.de');
  });

  it('refuses IP addresses in every spelling', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '::1', '[::1]', '2001:db8::1', '127.1', '0x7f.0.0.1'])
      expect(reason(ip), ip).toMatch(/IP address/);
  });

  it('refuses wildcards', () => {
    expect(reason('*.djname.com')).toMatch(/wildcard/);
    expect(reason('a.*.djname.com')).toMatch(/wildcard/);
  });

  it("refuses the platform's own domain and its subdomains, not look-alikes", () => {
    expect(reason('djcast.example')).toMatch(/platform/);
    expect(reason('evil.DJCAST.example')).toMatch(/platform/);
    expect(ok('notdjcast.example')).toBe('notdjcast.example');
  });

  it('refuses what is not a host name', () => {
    for (const bad of [
      'localhost',
      'https://podcast.djname.com',
      'podcast.djname.com:443',
      'a..b.com',
      '-a.b.com',
      'a b.com',
      '',
    ])
      expect(() => reason(bad), bad).not.toThrow();
    expect(reason(`${'a'.repeat(64)}.com`)).toBeTruthy();
  });

  it('names the TXT challenge record', () => {
    expect(challengeRecordName('podcast.djname.com')).toBe('_djcast-challenge.podcast.djname.com');
  });
});
