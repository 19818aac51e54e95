import { UsageError } from './errors.js';
import { createPrompter, readStdin } from './prompt.js';

export interface CredentialInput {
  email: string | undefined;
  password: string | undefined;
  passwordStdin: boolean;
  /** stdin is a terminal: missing values are prompted for. */
  interactive: boolean;
}

const SCRIPT_HINT = 'In a script pass --email with --password-stdin, or set DJCAST_EMAIL and DJCAST_PASSWORD.';

/** Email and password from flags, env, stdin or (on a terminal) prompts. */
export async function collectCredentials(input: CredentialInput): Promise<{ email: string; password: string }> {
  let { email, password } = input;
  if (input.passwordStdin) {
    if (!email) throw new UsageError('--password-stdin needs --email (or DJCAST_EMAIL).', SCRIPT_HINT);
    password = await readStdin();
  }
  if (!input.interactive) {
    if (!email) throw new UsageError('Missing --email (or DJCAST_EMAIL).', SCRIPT_HINT);
    if (password === undefined) throw new UsageError('Missing the password.', SCRIPT_HINT);
  }
  if (!email || password === undefined) {
    const prompter = createPrompter();
    try {
      email ||= await prompter.text('Email: ');
      password ??= await prompter.secret('Password: ');
    } finally {
      prompter.close();
    }
  }
  if (!email.trim()) throw new UsageError('The email is empty.');
  if (!password) throw new UsageError('The password is empty.');
  return { email: email.trim(), password };
}
