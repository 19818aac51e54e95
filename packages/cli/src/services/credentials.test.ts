import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsStore } from './credentials.js';

const login = { api_url: 'http://localhost:8787', email: 'dj@example.com', access_token: 'a', refresh_token: 'djr_r' };
const mode = (file: string) => statSync(file).mode & 0o777;

describe.skipIf(process.platform === 'win32')('CredentialsStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'djcast-cred-')), 'nested', 'djcast');
  });
  afterEach(() => rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true }));

  it('creates the directory 0700 and the file 0600, and reads back what it wrote', () => {
    const store = new CredentialsStore(dir);
    expect(store.read()).toBeUndefined();
    store.write(login);
    expect(mode(dir)).toBe(0o700);
    expect(mode(store.file)).toBe(0o600);
    expect(store.read()).toEqual(login);
  });

  it('tightens an existing file that others could read, on write and on read', () => {
    const store = new CredentialsStore(dir);
    store.write(login);
    chmodSync(store.file, 0o644);
    store.write({ ...login, refresh_token: 'djr_rotated' });
    expect(mode(store.file)).toBe(0o600);
    chmodSync(store.file, 0o644);
    expect(store.read()?.refresh_token).toBe('djr_rotated');
    expect(mode(store.file)).toBe(0o600);
  });

  it('says how to recover from a corrupt file', () => {
    const store = new CredentialsStore(dir);
    store.write(login);
    writeFileSync(store.file, '{"api_url":');
    expect(() => store.read()).toThrow(/unreadable/);
  });

  it('removes the file and reports whether there was one', () => {
    const store = new CredentialsStore(dir);
    store.write(login);
    expect(JSON.parse(readFileSync(store.file, 'utf8'))).toEqual(login);
    expect(store.remove()).toBe(true);
    expect(store.remove()).toBe(false);
    expect(store.read()).toBeUndefined();
  });
});
