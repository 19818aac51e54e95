import { randomFillSync } from 'node:crypto';

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
  | 'brk'
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
    random = freshRandom();
  }
  lastTime = now;
  lastRandom = random;
  return `${prefix}_${encodeTime(now)}${encodeRandom(random)}`;
}

/** Random bytes drawn from the CSPRNG a pool at a time: one call per 409 ids, not one per id (one per request). */
const POOL_BYTES = 4090;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

/** Ten fresh random bytes, a copy no later refill can change (lastRandom outlives the pool's contents). */
function freshRandom(): Uint8Array {
  if (poolAt + 10 > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 10;
  return pool.slice(poolAt - 10, poolAt);
}

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

/**
 * The 80 random bits as 16 base32 digits. Two 40-bit halves fit a double exactly, so this needs
 * no BigInt (which made every request id, one per request, cost several times more).
 */
export function encodeRandom(bytes: Uint8Array): string {
  return encode40(bytes, 0) + encode40(bytes, 5);
}

function encode40(bytes: Uint8Array, at: number): string {
  let n = 0;
  for (let i = at; i < at + 5; i++) n = n * 256 + bytes[i]!;
  let out = '';
  for (let i = 0; i < 8; i++) {
    out = CROCKFORD[n % 32] + out;
    n = Math.floor(n / 32);
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
  return freshRandom();
}

export const ID_PATTERN = /^[a-z]{3}_[0-9a-hjkmnp-tv-z]{26}$/;
