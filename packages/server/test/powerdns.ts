// Starts a real PowerDNS authoritative server for tests (Debian's pdns-server
// with the sqlite3 backend): its own config dir and database in a temp folder,
// DNS and the HTTP API on free loopback ports, stopped by the test.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
const INSTALL = 'apt-get install pdns-server pdns-backend-sqlite3 sqlite3 (scripts/install-system-deps.sh)';

export interface PowerDnsHarness {
  /** `127.0.0.1:PORT`, for DJCAST_DNS_RESOLVERS and Pebble's -dnsserver. */
  dnsServer: string;
  apiUrl: string;
  apiKey: string;
  createZone(name: string): Promise<void>;
  /** Replaces the rrset (TXT contents are quoted here). */
  setRecord(name: string, type: 'A' | 'TXT' | 'CNAME', contents: string[]): Promise<void>;
  deleteRecord(name: string, type: 'A' | 'TXT' | 'CNAME'): Promise<void>;
  /** The zone's rrsets as the API returns them. */
  rrsets(zone: string): Promise<{ name: string; type: string; records: { content: string }[] }[]>;
  log(): string;
  stop(): Promise<void>;
}

/** A port free on 127.0.0.1 for both TCP and UDP (DNS uses both). */
export async function freeDnsPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port for DNS');
}

const fqdn = (n: string) => (n.endsWith('.') ? n : `${n}.`);

export async function startPowerDns(startTimeoutMs = 60_000): Promise<PowerDnsHarness> {
  if (!existsSync('/usr/sbin/pdns_server') || !existsSync(SCHEMA)) throw new Error(`PowerDNS is not installed: run ${INSTALL}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'djcast-pdns-'));
  const db = path.join(dir, 'pdns.db');
  try {
    execFileSync('sqlite3', [db], { input: await readFile(SCHEMA) });
  } catch (error) {
    throw new Error(`could not create the PowerDNS database (${(error as Error).message}): run ${INSTALL}`);
  }
  await writeFile(path.join(dir, 'pdns.conf'), '');
  const dnsPort = await freeDnsPort();
  const apiPort = await freeDnsPort();
  const apiKey = `test-${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(
    '/usr/sbin/pdns_server',
    [
      `--config-dir=${dir}`,
      '--daemon=no',
      '--guardian=no',
      '--disable-syslog',
      `--socket-dir=${dir}`,
      '--local-address=127.0.0.1',
      `--local-port=${dnsPort}`,
      '--launch=gsqlite3',
      `--gsqlite3-database=${db}`,
      '--api=yes',
      `--api-key=${apiKey}`,
      '--webserver=yes',
      '--webserver-address=127.0.0.1',
      `--webserver-port=${apiPort}`,
      '--webserver-allow-from=127.0.0.0/8',
      // Answers change between checks within a test: no packet or query cache.
      '--cache-ttl=0',
      '--negquery-cache-ttl=0',
      '--query-cache-ttl=0',
      '--zone-cache-refresh-interval=0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const base = `${apiUrl}/api/v1/servers/localhost`;
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}${p}`, {
      method,
      headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`PowerDNS ${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`pdns_server exited during startup:\n${output}`);
    }
    try {
      await call('GET', '/zones');
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`pdns_server's API did not answer within ${startTimeoutMs} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const zoneOf = (name: string, zones: string[]) =>
    zones.filter((z) => fqdn(name) === z || fqdn(name).endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0];
  const zones = async () => ((await call('GET', '/zones')) as { name: string }[]).map((z) => z.name);
  const patch = async (name: string, rrset: Record<string, unknown>) => {
    const zone = zoneOf(name, await zones());
    if (!zone) throw new Error(`no zone holds ${name}`);
    await call('PATCH', `/zones/${zone}`, { rrsets: [{ name: fqdn(name), ...rrset }] });
  };
  return {
    dnsServer: `127.0.0.1:${dnsPort}`,
    apiUrl,
    apiKey,
    async createZone(name) {
      await call('POST', '/zones', { name: fqdn(name), kind: 'Native', nameservers: [`ns1.${fqdn(name)}`] });
    },
    async setRecord(name, type, contents) {
      await patch(name, {
        type,
        ttl: 1,
        changetype: 'REPLACE',
        records: contents.map((c) => ({ content: type === 'TXT' ? JSON.stringify(c) : c, disabled: false })),
      });
    },
    async deleteRecord(name, type) {
      await patch(name, { type, changetype: 'DELETE' });
    },
    async rrsets(zone) {
      return ((await call('GET', `/zones/${fqdn(zone)}`)) as { rrsets: never[] }).rrsets;
    },
    log: () => output,
    stop,
  };
}
