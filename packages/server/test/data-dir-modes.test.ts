// The embedded default's files on disk: the data dir, the SQLite database
// (with its -wal and -shm files), the generated secrets and local media are
// readable by the server's user alone, on a fresh start and on a data dir an
// older version left world-readable.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp } from './harness.js';

const sandbox = mkdtempSync(path.join(tmpdir(), 'djcast-modes-'));
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

async function startAndCheck(dataDir: string): Promise<void> {
  const t = await createTestApp('sqlite', { DJCAST_DATA_DIR: dataDir });
  try {
    // Something in every kind of file: a user row (database, WAL), a stored object (media).
    await signUp(t);
    await t.container.blobs.put('uploads/audio/upl_modes/original.mp3', Buffer.from('a private mix'), {
      contentType: 'audio/mpeg',
    });

    expect(mode(dataDir), 'data dir').toBe('700');
    const files = ['djcast.sqlite', 'djcast.sqlite-wal', 'djcast.sqlite-shm', 'jwt-secret', 'encryption-key'];
    for (const name of files) {
      const file = path.join(dataDir, name);
      expect(existsSync(file), `${name} exists`).toBe(true);
      expect(mode(file), name).toBe('600');
    }
    const media = path.join(dataDir, 'media');
    for (const dir of [media, path.join(media, 'uploads'), path.join(media, 'uploads/audio/upl_modes')])
      expect(mode(dir), dir).toBe('700');
    expect(mode(path.join(media, 'uploads/audio/upl_modes/original.mp3')), 'media file').toBe('600');
  } finally {
    await t.close();
  }
}

describe('data dir permissions', () => {
  it('a fresh data dir (nested, not there yet): 0700, files 0600', async () => {
    await startAndCheck(path.join(sandbox, 'fresh', 'data'));
  });

  it('a world-readable data dir and database from before are tightened on start', async () => {
    const dataDir = path.join(sandbox, 'old');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(path.join(dataDir, 'djcast.sqlite'), '');
    chmodSync(path.join(dataDir, 'djcast.sqlite'), 0o644);
    expect(mode(dataDir)).toBe('755');
    await startAndCheck(dataDir);
  });
});
