import { Flags } from '@oclif/core';
import type { Output } from './ui/output.js';

/** Flags that several commands share. */
export const credentialFlags = {
  email: Flags.string({ summary: 'Account email.', env: 'DJCAST_EMAIL' }),
  password: Flags.string({ summary: 'Account password (prefer --password-stdin or DJCAST_PASSWORD).', env: 'DJCAST_PASSWORD' }),
  'password-stdin': Flags.boolean({ summary: 'Read the password from stdin.', default: false }),
};

export function warnIfPasswordFlag(argv: string[], out: Output): void {
  if (argv.some((arg) => arg === '--password' || arg.startsWith('--password='))) {
    out.warn('A password on the command line stays in your shell history; prefer --password-stdin or DJCAST_PASSWORD.');
  }
}

/** --yes on destructive commands: they ask on a terminal, and refuse to run unattended without it. */
export const confirmFlags = {
  yes: Flags.boolean({
    char: 'y',
    summary: 'Do not ask for confirmation (required when stdin is not a terminal).',
    default: false,
  }),
};
