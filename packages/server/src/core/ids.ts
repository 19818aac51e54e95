import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix =
  | 'usr'
  | 'str'
  | 'upl'
  | 'pls'
  | 'pod'
  | 'epi'
  | 'dom'
  | 'pln'
  | 'sub'
  | 'req'
  | 'tok'
  | 'rly'
  | 'rft'
  | 'job'
  | 'msg'
  | 'trk'
  | 'evt'
  | 'whe'
  | 'whd'
  | 'wha'
  | 'art'
  | 'pft'
  | 'dld'
  | 'arc'
  | 'adm'
  | 'adi'
  | 'als';

let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

/**
 * Prefixed, time-sortable ids (a ULID in lower-case Crockford base32):
 * 48 bits of milliseconds then 80 random bits, kept monotonic within a
 * millisecond so ids sort in creation order.
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  let random: Uint8Array;
  if (now <= lastTime) {
    random = increment(lastRandom);
    now = lastTime;
  } else {
    random = randomBytes(10);
  }
  lastTime = now;
  lastRandom = random;
  return `${prefix}_${encodeTime(now)}${encodeRandom(random)}`;
}

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = CROCKFORD[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return out;
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = Uint8Array.from(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 255) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return randomBytes(10);
}

export const ID_PATTERN = /^[a-z]{3}_[0-9a-hjkmnp-tv-z]{26}$/;
