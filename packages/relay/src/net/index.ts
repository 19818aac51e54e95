/**
 * @djcast/relay/net: the one guarded outbound HTTP client. Every server-side
 * fetch of a URL a user gave us (server and relay) goes through it.
 */
export { isPrivateAddress, unmapIpv4 } from './address.js';
export {
  type AddressPolicy,
  assertRemoteAllowed,
  connectGuarded,
  type GuardedConnectOptions,
  type LookupFunction,
} from './connect.js';
export { SourceProtocolError, SourceTimeoutError, TooManyRedirectsError, UrlNotAllowedError } from './errors.js';
export {
  fetchFollowing,
  type FollowedResponse,
  type FollowOptions,
  type HttpResponse,
  nextHop,
  parseFetchUrl,
  parseHead,
  readBodyText,
  type RequestOptions,
  requestOnce,
} from './http.js';
