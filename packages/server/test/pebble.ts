// Starts Debian's Pebble (ACME test CA) for tests: a TLS pair made with
// openssl here (the package ships none), the directory and management API on
// free loopback ports, HTTP-01 validated on the port the test's server listens
// on, names resolved through the DNS server given (PowerDNS).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeDnsPort } from './powerdns.js';

export interface PebblePrepared {
  directoryUrl: string;
  /** Pebble's own TLS certificate (PEM file): what the ACME client must trust for the directory. */
  caFile: string;
  start(httpPort: number, dnsServer: string): Promise<PebbleHarness>;
  cleanup(): Promise<void>;
}

export interface PebbleHarness {
  /** The root that signs issued certificates, from the management endpoint. */
  root(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

const INSTALL = 'apt-get install pebble openssl (scripts/install-system-deps.sh)';

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Ports and the TLS pair first: the server under test needs the directory URL and CA before Pebble needs its port. */
export async function preparePebble(): Promise<PebblePrepared> {
  if (!existsSync('/usr/bin/pebble')) throw new Error(`Pebble is not installed: run ${INSTALL}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'djcast-pebble-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const listenPort = await freeDnsPort();
  const managementPort = await freeDnsPort();
  const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
  const caPem = execFileSync('cat', [cert]).toString();
  return {
    directoryUrl,
    caFile: cert,
    cleanup: () => rm(dir, { recursive: true, force: true }),
    async start(httpPort, dnsServer) {
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${listenPort}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: cert,
          privateKey: key,
          httpPort,
          tlsPort: await freeDnsPort(),
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      };
      const configPath = path.join(dir, 'pebble.json');
      await writeFile(configPath, JSON.stringify(config));
      const child: ChildProcess = spawn('/usr/bin/pebble', ['-config', configPath, '-dnsserver', dnsServer], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
      };
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`pebble exited during startup:\n${output}`);
        try {
          if ((await httpsGet(directoryUrl, caPem)).status === 200) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`pebble did not serve its directory within 60 s:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return {
        async root() {
          const res = await httpsGet(`https://127.0.0.1:${managementPort}/roots/0`, caPem);
          if (res.status !== 200) throw new Error(`pebble roots/0: ${res.status}`);
          return res.body;
        },
        log: () => output,
        stop,
      };
    },
  };
}
