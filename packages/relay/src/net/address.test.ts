import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { isPrivateAddress, ipv6Bytes, unmapIpv4 } from './address.js';
import { assertRemoteAllowed } from './connect.js';
import { UrlNotAllowedError } from './errors.js';

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
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fe80::1%lo',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::FFFF:10.0.0.1',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'ff02::1',
    'not-an-ip',
    'localhost',
    '',
  ])('refuses %s', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '11.0.0.1',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.4.4',
    '::ffff:808:404',
    '2a00:1450:4001:80b::200e',
  ])('allows %s', (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it('reads every IPv6 spelling into the same bytes', () => {
    expect(ipv6Bytes('::ffff:127.0.0.1')).toEqual(ipv6Bytes('0:0:0:0:0:ffff:7f00:0001'));
    expect(ipv6Bytes('1::')).toEqual(Uint8Array.from([0, 1, ...new Array(14).fill(0)]));
    expect(ipv6Bytes('fe80::1%eth0')).toBeNull();
    expect(unmapIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(unmapIpv4('2606:4700::1')).toBe('2606:4700::1');
  });
});

describe('assertRemoteAllowed (the check on the connected socket)', () => {
  it('refuses a socket connected to loopback, whatever name or literal led there', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    try {
      expect(() => assertRemoteAllowed(socket, { allowPrivate: false })).toThrow(UrlNotAllowedError);
      expect(() => assertRemoteAllowed(socket, { allowPrivate: true })).not.toThrow();
      expect(() => assertRemoteAllowed({ remoteAddress: undefined }, { allowPrivate: false })).toThrow(UrlNotAllowedError);
      expect(() => assertRemoteAllowed({ remoteAddress: '::ffff:10.1.2.3' }, { allowPrivate: false })).toThrow(
        UrlNotAllowedError,
      );
      expect(() => assertRemoteAllowed({ remoteAddress: '11.0.0.1' }, { allowPrivate: false })).not.toThrow();
    } finally {
      socket.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
