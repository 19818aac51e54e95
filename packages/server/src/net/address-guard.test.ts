import { describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.js';
import { assertFetchableUrl, isPrivateAddress } from './address-guard.js';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-ip',
  ])('refuses %s', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.4.4'])('allows %s', (ip) =>
    expect(isPrivateAddress(ip)).toBe(false),
  );
});

describe('assertFetchableUrl', () => {
  it('refuses loopback names and literals with url_not_allowed', async () => {
    for (const url of ['http://localhost:8000/live', 'http://127.0.0.1/', 'http://[::1]:8000/', 'http://169.254.169.254/latest/meta-data']) {
      await expect(assertFetchableUrl(url, false)).rejects.toMatchObject({ code: 'url_not_allowed' });
    }
  });

  it('refuses other schemes', async () => {
    await expect(assertFetchableUrl('file:///etc/passwd', true)).rejects.toBeInstanceOf(DomainError);
  });

  it('allows private addresses when configuration says so', async () => {
    await expect(assertFetchableUrl('http://127.0.0.1:8000/live', true)).resolves.toBeInstanceOf(URL);
  });
});
