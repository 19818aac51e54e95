import { hash, verify } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './common-passwords.js';

/** OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = {
  algorithm: 2 /* Algorithm.Argon2id */,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
} as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

export interface PasswordRuleFailure {
  rule: 'min_length' | 'max_length' | 'special_character' | 'not_common';
  message: string;
}

/** Every rule the password breaks, so the user can fix them all at once. */
export function checkPasswordRules(password: string): PasswordRuleFailure[] {
  const failures: PasswordRuleFailure[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    failures.push({ rule: 'min_length', message: `must be at least ${PASSWORD_MIN_LENGTH} characters long` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    failures.push({ rule: 'max_length', message: `must be at most ${PASSWORD_MAX_LENGTH} characters long` });
  }
  if (!/[^\p{L}\p{N}]/u.test(password)) {
    failures.push({ rule: 'special_character', message: 'must contain at least one special character (not a letter or digit)' });
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) {
    failures.push({ rule: 'not_common', message: 'is one of the most common passwords' });
  }
  return failures;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await verify(hashed, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/** Spends the same work as a real check, so unknown emails answer as slowly as wrong passwords. */
export async function burnPasswordCheck(password: string): Promise<false> {
  dummyHash ??= hashPassword('djcast-timing-equalizer-!');
  await verifyPassword(await dummyHash, password);
  return false;
}
