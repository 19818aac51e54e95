import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors.js';

/** What `djcast login` keeps between runs. */
export interface StoredLogin {
  api_url: string;
  email: string;
  access_token: string;
  refresh_token: string;
}

const FILE_MODE = 0o600;

/** credentials.json in the CLI's config directory, readable by its owner only. */
export class CredentialsStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'credentials.json');
  }

  read(): StoredLogin | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    this.restrictMode();
    try {
      const data = JSON.parse(text) as Partial<StoredLogin>;
      if (typeof data.api_url === 'string' && typeof data.access_token === 'string' && typeof data.refresh_token === 'string') {
        return {
          api_url: data.api_url,
          email: data.email ?? '',
          access_token: data.access_token,
          refresh_token: data.refresh_token,
        };
      }
    } catch {
      // fall through
    }
    throw new CliError(`The stored login in ${this.file} is unreadable.`, {
      hint: 'Run `djcast logout` to delete it, then `djcast login`.',
    });
  }

  /** Writes a new file (created 0600, then renamed over the old one) so no reader sees half a file. */
  write(login: StoredLogin): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, `${JSON.stringify(login, null, 2)}\n`, { mode: FILE_MODE, flag: 'w' });
      chmodSync(temp, FILE_MODE); // a leftover temp file keeps its old mode through writeFile
      renameSync(temp, this.file);
    } finally {
      rmSync(temp, { force: true });
    }
    chmodSync(this.file, FILE_MODE);
  }

  /** True when there was a file to delete. */
  remove(): boolean {
    try {
      rmSync(this.file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** A copied or restored file may be readable by others; tighten it. */
  private restrictMode(): void {
    if (process.platform === 'win32') return;
    if ((statSync(this.file).mode & 0o077) !== 0) chmodSync(this.file, FILE_MODE);
  }
}
