// `djcast domain add|list|get|verify|remove`, the built binary against the real
// API on loopback, with a real PowerDNS (started here) as the DNS the server
// reads: the records printed on stderr, --json, and `verify --wait` exiting 4
// on timeout and 1 when the domain fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, uniqueEmail } from '../../sdk/test/support/server.js';
import { createApp, createContainer, loadConfig, type Container } from '@djcast/server';
import { startPowerDns, type PowerDnsHarness } from '../../server/test/powerdns.js';
import { cliSandbox } from './support/run-cli.js';

const EDGE = 'edge.djcast-edge.test';

describe('djcast domain', () => {
  let dataDir: string;
  let container: Container;
  let http: Listening;
  let pdns: PowerDnsHarness;
  let cli: ReturnType<typeof cliSandbox>;
  let podcast: string;

  beforeAll(async () => {
    await ensureBuilt('cli');
    pdns = await startPowerDns();
    for (const zone of ['djname.com', 'djcast-edge.test']) await pdns.createZone(zone);
    await pdns.setRecord(EDGE, 'A', ['127.0.0.1']);
    dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-cli-domain-'));
    container = await createContainer(
      loadConfig({
        DJCAST_DATA_DIR: dataDir,
        DJCAST_DATABASE_URL: 'sqlite::memory:',
        DJCAST_LOG_LEVEL: 'silent',
        DJCAST_DNS_RESOLVERS: pdns.dnsServer,
        DJCAST_DOMAIN_CNAME_TARGET: EDGE,
      }),
      { defaultMetrics: false },
    );
    const app = createApp(container);
    http = await listen((req) => app.fetch(req));
    cli = cliSandbox(http.url);
    const email = uniqueEmail('cli-domain');
    expect((await cli.run(['register', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    expect((await cli.run(['login'], { env: { DJCAST_EMAIL: email, DJCAST_PASSWORD: PASSWORD } })).code).toBe(0);
    const created = await cli.run([
      'podcast',
      'create',
      '--title',
      'Show',
      '--description',
      'Sets',
      '--author',
      'DJ',
      '--category',
      'Music',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    podcast = (JSON.parse(created.stdout) as { id: string }).id;
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await container?.close();
    await pdns?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('add prints the records to create on stderr and the id on stdout; list, get and --json show it', async () => {
    const add = await cli.run(['domain', 'add', 'cli.djname.com', '--podcast', podcast]);
    expect(add.code, add.stderr).toBe(0);
    const id = add.stdout.trim();
    expect(id).toMatch(/^dom_[0-9a-z]{26}$/);
    expect(add.stderr).toMatch(/missing\s+TXT\s+_djcast-challenge\.cli\.djname\.com\s+->\s+djcast-verify=[0-9a-f]{32}/);
    expect(add.stderr).toContain(`CNAME cli.djname.com  ->  ${EDGE}`);

    const list = await cli.run(['domain', 'list', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((d) => d.id)).toContain(id);
    const get = await cli.run(['domain', 'get', 'cli.djname.com', '--json']);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ id, state: 'pending_verification' });
  });

  it('verify --wait exits 4 when the time runs out, naming the state on stderr', async () => {
    const result = await cli.run(['domain', 'verify', 'cli.djname.com', '--wait', '--timeout', '2s']);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain('pending_verification');
  }, 60_000);

  it('verify --wait prints each state change and exits 1 when the domain fails (no certificate authority here); remove deletes it', async () => {
    const got = JSON.parse((await cli.run(['domain', 'get', 'cli.djname.com', '--json'])).stdout) as {
      records: { type: string; name: string; value: string }[];
    };
    const txt = got.records.find((r) => r.type === 'TXT')!;
    await pdns.setRecord(txt.name, 'TXT', [txt.value]);
    await pdns.setRecord('cli.djname.com', 'CNAME', [`${EDGE}.`]);
    container.worker.start();
    const result = await cli.run(['domain', 'verify', 'cli.djname.com', '--wait', '--timeout', '60s']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/failed/);
    expect(result.stderr).toMatch(/certificates are not configured/);

    const removed = await cli.run(['domain', 'remove', 'cli.djname.com', '--yes', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await cli.run(['domain', 'get', 'cli.djname.com'])).code).toBe(1);
  }, 90_000);
});
