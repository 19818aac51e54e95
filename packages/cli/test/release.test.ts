// Publishing is one command: the SDK and the CLI are one fixed changesets group.
// In a scratch copy of the workspace's manifests, a changeset for the SDK alone is
// turned into versions by the real `changeset version`: both packages move to the
// same version, each changelog gets the line, the CLI's dependency on the SDK stays
// the workspace link (pnpm pack writes the version), and the private server and
// relay are left alone.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../sdk/test/support/build.js';

const run = promisify(execFile);
const PACKAGES = ['sdk', 'cli', 'server', 'relay'];
const work = mkdtempSync(path.join(tmpdir(), 'djcast-release-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const manifest = (dir: string) =>
  JSON.parse(readFileSync(path.join(work, dir, 'package.json'), 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
  };

describe('versioning the published packages with changesets', () => {
  it('a changeset for the SDK versions the SDK and the CLI together, with changelogs, and leaves the private packages', async () => {
    for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      cpSync(path.join(REPO_ROOT, file), path.join(work, file));
    }
    for (const p of PACKAGES) {
      mkdirSync(path.join(work, 'packages', p), { recursive: true });
      cpSync(path.join(REPO_ROOT, 'packages', p, 'package.json'), path.join(work, 'packages', p, 'package.json'));
    }
    for (const p of ['sdk', 'cli']) {
      cpSync(path.join(REPO_ROOT, 'packages', p, 'CHANGELOG.md'), path.join(work, 'packages', p, 'CHANGELOG.md'));
    }
    writeFileSync(
      path.join(work, '.changeset', 'quiet-owls-sing.md'),
      '---\n"@djcast/sdk": minor\n---\n\nA new client method for plans.\n',
    );
    const before = Object.fromEntries(PACKAGES.map((p) => [p, manifest(`packages/${p}`).version]));
    await run('git', ['init', '-q'], { cwd: work });

    await run(path.join(REPO_ROOT, 'node_modules/.bin/changeset'), ['version'], {
      cwd: work,
      env: { ...process.env, CI: 'true' },
    });

    const [major, minor] = before.sdk!.split('.').map(Number);
    const next = `${major}.${minor! + 1}.0`;
    expect(manifest('packages/sdk').version).toBe(next);
    expect(manifest('packages/cli').version).toBe(next);
    expect(manifest('packages/cli').dependencies?.['@djcast/sdk']).toBe('workspace:*');
    expect(manifest('packages/server').version).toBe(before.server);
    expect(manifest('packages/relay').version).toBe(before.relay);
    for (const p of ['sdk', 'cli']) {
      const changelog = readFileSync(path.join(work, 'packages', p, 'CHANGELOG.md'), 'utf8');
      expect(changelog, p).toContain(`## ${next}`);
      expect(changelog.indexOf(`## ${next}`), p).toBeLessThan(changelog.indexOf(`## ${before[p]}`));
    }
    expect(readFileSync(path.join(work, 'packages/sdk/CHANGELOG.md'), 'utf8')).toContain('A new client method for plans.');
    // The changeset is used up.
    expect(() => readFileSync(path.join(work, '.changeset', 'quiet-owls-sing.md'))).toThrow();
  });
});
