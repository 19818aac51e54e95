import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { isPrivateAddress } from './address.js';
import { SourceTimeoutError, UrlNotAllowedError } from './errors.js';

/** Same shape as node:net's lookup option (dns.lookup's signature). */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface AddressPolicy {
  /** Connect to loopback and private addresses too (DJCAST_ALLOW_PRIVATE_URLS, for development and tests). */
  allowPrivate: boolean;
}

export interface GuardedConnectOptions extends AddressPolicy {
  /** Name resolution (default dns.lookup). Its answers are checked too; it cannot widen the policy. */
  lookup?: LookupFunction;
  /** Time allowed for the TCP (and TLS) handshake. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Readable buffer of the socket, in bytes. */
  highWaterMark?: number;
}

/**
 * Opens a TCP (or TLS, for https:) connection to a URL's host and port and
 * resolves once the connection is up and its remote address is allowed.
 *
 * The address is checked three times: an IP literal before connecting (node
 * never calls `lookup` for literals), every address a name resolves to
 * before connecting (so a refused internal port and an open one look the
 * same: nothing is sent to either), and the socket's connected remote
 * address before a single byte is written - the check that does not depend
 * on how the address was found (literals, redirects, rebinding, IPv4-mapped
 * IPv6). TLS starts only after that check.
 */
export async function connectGuarded(url: URL, options: GuardedConnectOptions): Promise<net.Socket> {
  const secure = url.protocol === 'https:';
  if (url.protocol !== 'http:' && !secure)
    throw new UrlNotAllowedError(`only http and https URLs can be fetched, not ${url.protocol}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (secure ? 443 : 80));
  const { allowPrivate, signal } = options;
  signal?.throwIfAborted();
  if (!host) throw new UrlNotAllowedError('the URL has no host');
  if (net.isIP(host) && !allowPrivate && isPrivateAddress(host)) {
    throw new UrlNotAllowedError(`${host} is a private, loopback or otherwise internal address`);
  }

  const lookup = guardLookup(options.lookup ?? (dnsLookup as unknown as LookupFunction), allowPrivate);
  const raw = net.connect({
    host,
    port,
    lookup,
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  });
  await settle(raw, 'connect', url, options);
  try {
    assertRemoteAllowed(raw, options);
  } catch (err) {
    raw.destroy();
    throw err;
  }
  if (!secure) return raw;
  const secured = tls.connect({
    socket: raw,
    servername: net.isIP(host) ? undefined : host,
    ALPNProtocols: ['http/1.1'],
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  });
  await settle(secured, 'secureConnect', url, options);
  return secured;
}

/** Throws UrlNotAllowedError unless the socket is connected to an address the policy allows. */
export function assertRemoteAllowed(socket: Pick<net.Socket, 'remoteAddress'>, policy: AddressPolicy): void {
  if (policy.allowPrivate) return;
  const remote = socket.remoteAddress;
  if (!remote || isPrivateAddress(remote)) {
    throw new UrlNotAllowedError(
      `connected to ${remote ?? 'an unknown address'}, a private, loopback or otherwise internal address`,
    );
  }
}

/** A lookup that refuses a name when any address it resolves to is not allowed. */
function guardLookup(inner: LookupFunction, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    inner(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list: LookupAddress[] = Array.isArray(addresses) ? addresses : [{ address: addresses, family: net.isIP(addresses) }];
      if (list.length === 0)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      if (!allowPrivate) {
        const bad = list.find((a) => isPrivateAddress(a.address));
        if (bad)
          return callback(
            new UrlNotAllowedError(`${hostname} resolves to ${bad.address}, a private, loopback or otherwise internal address`),
            '',
            0,
          );
      }
      if (options.all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

function settle(socket: net.Socket, event: 'connect' | 'secureConnect', url: URL, options: GuardedConnectOptions): Promise<void> {
  const { signal, timeoutMs } = options;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', done);
      socket.off(event, onReady);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve();
    };
    const onReady = () => done();
    const onAbort = () => done(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(
      () => done(new SourceTimeoutError(`no connection to ${url.host} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', done);
    socket.once(event, onReady);
  });
}
