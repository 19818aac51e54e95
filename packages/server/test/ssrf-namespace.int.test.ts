// Server-side request forgery, tested with a real redirecting server on a
// non-loopback address: ssrf-namespace-child.ts runs in an unprivileged
// network namespace (unshare -rn) where 11.0.0.1, an ordinary public
// address, sits on the namespace's own loopback next to a "secret" internal
// server on 127.0.0.1. Nothing leaves the namespace. The child prints one
// JSON line per case; this test asserts on them.

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
type Line = Record<string, unknown> & { case?: string; status?: number; body?: string; secretHits?: number };

function requireTool(name: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) {
    throw new Error(
      `The SSRF test needs \`${name}\` to build a network namespace: install ${pkg} (e.g. apt-get install ${pkg}).`,
    );
  }
}

function runInNamespace(): Promise<{ lines: Line[]; stderr: string; code: number | null }> {
  requireTool('unshare', 'util-linux');
  requireTool('ip', 'iproute2');
  const script = path.join(here, 'ssrf-namespace-child.ts');
  const node = [process.execPath, '--conditions=source', '--import', 'tsx', script]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-rn', 'sh', '-c', `ip link set lo up && ip addr add 11.0.0.1/32 dev lo && exec ${node}`], {
      cwd: path.resolve(here, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
      resolve({ lines, stderr, code });
    });
  });
}

describe('server-side requests from inside a network namespace (11.0.0.1 public, 127.0.0.1 internal)', () => {
  let byCase: Map<string, Line>;
  let run: Awaited<ReturnType<typeof runInNamespace>>;

  beforeAll(async () => {
    run = await runInNamespace();
    byCase = new Map(run.lines.filter((l) => l.case).map((l) => [l.case!, l]));
  }, 180_000);

  const problemCode = (line: Line | undefined) => (JSON.parse(line?.body ?? '{}') as { code?: string }).code;

  it('ran every case to the end', () => {
    expect(run.lines.at(-1), run.stderr.slice(-2000)).toEqual({ done: true });
    expect(run.code).toBe(0);
  });

  it('refuses a playlist URL that redirects to a loopback literal, a name resolving to loopback, or an IPv4-mapped address, and never contacts the internal server', () => {
    for (const name of [
      'playlist /literal.mp3',
      'playlist /name.mp3',
      'playlist /mapped.mp3',
      'playlist /chain.mp3',
      'playlist direct IPv4-mapped',
    ]) {
      const line = byCase.get(name);
      expect(line?.status, name).toBe(422);
      expect(problemCode(line), name).toBe('url_not_allowed');
      expect(line?.secretHits, name).toBe(0);
      expect(line?.body, name).not.toMatch(/127\.0\.0\.1|localhost|ffff|secret/i);
    }
    // The control: the same origin's plain file is accepted, so the refusals are about the redirects.
    expect(byCase.get('playlist /ok.mp3')?.status).toBe(201);
  });

  it('never lets the internal file into stream.mp3: ranged reads of external tracks refuse the redirect', () => {
    for (const name of ['track range /literal.mp3', 'track range /name.mp3', 'track range /mapped.mp3']) {
      expect(byCase.get(name), name).toMatchObject({ ok: false, error: 'TrackFetchError', notAllowed: true, secretHits: 0 });
    }
    expect(byCase.get('track range /ok.mp3')).toMatchObject({ ok: true, bytes: 4096, leaked: false });
  });

  it('refuses to register a source that redirects inward, and registers a plain one', () => {
    const refused = byCase.get('register /redirecting-source');
    expect(refused?.status).toBe(422);
    expect(problemCode(refused)).toBe('url_not_allowed');
    expect(refused?.secretHits).toBe(0);
    expect(byCase.get('register /live')?.status).toBe(201);
  });

  it("refuses the relay's stats, ICY and probe reads once the registered source starts redirecting", () => {
    expect(byCase.get('relay reads before')).toMatchObject({
      stats: { status: 200, leaked: false },
      icy: { end: 'aborted', titles: ['Public Track'] },
      probe: { kind: 'icecast', stats: 'Public Track' },
    });
    const after = byCase.get('relay reads after');
    expect(after).toMatchObject({ stats: { status: 302, leaked: false }, probe: { reason: 'not_allowed' }, secretHits: 0 });
    expect((after?.icy as { error?: string }).error).toMatch(/answered 302/);
  });

  it('refuses a source name that rebinds from the public address to loopback', () => {
    expect(byCase.get('dns rebinding')).toEqual({
      case: 'dns rebinding',
      first: 200,
      second: 'UrlNotAllowedError',
      secretHits: 0,
    });
  });

  it('contacted the internal server not once, and logged nothing of it', () => {
    expect(byCase.get('summary')).toMatchObject({ totalSecretHits: 0, leakedInLogs: false, launches: 1 });
  });
});
