/**
 * Alerting end to end, for real: Debian's `prometheus` scrapes a running djcast
 * (the whole app on a loopback port) with the shipped rules, and Debian's
 * `prometheus-alertmanager` routes with the shipped alertmanager.yml to a
 * loopback Slack-compatible webhook and a loopback SMTP server. A burst of 5xx
 * fires DjcastHighErrorRate (Slack and mail); a relay whose last heartbeat is
 * 200 s old fires DjcastRelayHeartbeatMissing with stream_id and last_seen,
 * while a relay that beat just now does not. Then every panel of the Grafana
 * dashboard is queried against that Prometheus and must return data.
 *
 * Test-only overrides, all in `testRules` / `testAlertmanagerConfig`: `for:`
 * durations are 0s (the windows and thresholds are the shipped ones), group
 * waits are 1 s, the Slack URL and SMTP host point at loopback without TLS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createHttpServer } from '../src/http/server.js';
import { createTestApp, signUp, startFakeIcecast, waitFor, RecordingLauncher, type FakeSource, type TestApp } from './harness.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const deployDir = path.join(root, 'deploy');

/** The shipped rules with every `for:` set to 0s, so a test needs no minutes of waiting; expressions untouched. */
export function testRules(text: string): string {
  const doc = parse(text) as { groups: { rules: { for?: string }[] }[] };
  for (const group of doc.groups) for (const rule of group.rules) if (rule.for) rule.for = '0s';
  return stringify(doc);
}

/** The shipped routing, with loopback receivers and short group waits. */
export function testAlertmanagerConfig(text: string, opts: { slackUrlFile: string; smtp: string }): string {
  const doc = parse(text) as {
    global: Record<string, unknown>;
    route: Record<string, unknown>;
    receivers: { slack_configs?: Record<string, unknown>[] }[];
  };
  doc.global.smtp_smarthost = opts.smtp;
  doc.global.smtp_require_tls = false;
  delete doc.global.smtp_auth_username;
  delete doc.global.smtp_auth_password_file;
  Object.assign(doc.route, { group_wait: '1s', group_interval: '1s' });
  for (const receiver of doc.receivers) for (const slack of receiver.slack_configs ?? []) slack.api_url_file = opts.slackUrlFile;
  return stringify(doc);
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A child that dies with this process (setpriv --pdeathsig) and whose output is kept for failure messages. */
function startDaemon(bin: string, args: string[]): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.on(
    'error',
    (error) => (output += `\nspawn failed: ${error.message} (apt-get install -y prometheus prometheus-alertmanager)`),
  );
  return { child, output: () => output };
}

async function stopDaemon(daemon: { child: ChildProcess } | undefined): Promise<void> {
  if (!daemon || daemon.child.exitCode !== null || daemon.child.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
  daemon.child.kill('SIGTERM');
  const timer = setTimeout(() => daemon.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

type PromVector = { metric: Record<string, string>; value: [number, string] }[];
type AmAlert = { labels: Record<string, string>; annotations: Record<string, string> };

describe('Prometheus and Alertmanager, end to end', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'djcast-alerting-'));
  let t: TestApp;
  let server: Server;
  let source: FakeSource;
  let prometheus: ReturnType<typeof startDaemon>;
  let alertmanager: ReturnType<typeof startDaemon>;
  let promUrl = '';
  let slack: http.Server;
  const slackMessages: { text: string; attachments?: { title?: string; text?: string }[] }[] = [];
  let smtp: SMTPServer;
  const mails: string[] = [];
  const launcher = new RecordingLauncher();
  /** The server's clock runs on real time, but stands at this instant while a test wants a heartbeat in the past. */
  let clockFixedMs: number | null = null;
  let boomTimer: NodeJS.Timeout | null = null;

  const query = async (expr: string): Promise<PromVector> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: PromVector }; error?: string };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };
  const firing = async (): Promise<AmAlert[]> => {
    const res = await fetch(`${promUrl}/api/v1/alerts`);
    const body = (await res.json()) as { data: { alerts: (AmAlert & { state: string })[] } };
    return body.data.alerts.filter((a) => a.state === 'firing');
  };
  const diagnostics = () =>
    `\n--- prometheus ---\n${prometheus?.output().slice(-3000)}\n--- alertmanager ---\n${alertmanager?.output().slice(-3000)}`;

  beforeAll(async () => {
    // The receivers: what Slack and a mail server would get.
    slack = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        slackMessages.push(JSON.parse(body));
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        let text = '';
        stream.on('data', (c) => (text += c));
        stream.on('end', () => {
          mails.push(text);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));

    // djcast, on a real port, with one route that fails like a bug would.
    source = await startFakeIcecast();
    t = await createTestApp('sqlite', {}, { relayLauncher: launcher, clock: () => new Date(clockFixedMs ?? Date.now()) });
    t.app.get('/test/boom', () => {
      throw new Error('a bug, on purpose');
    });
    server = createHttpServer(t.app, t.container.config.http);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const djcastPort = (server.address() as AddressInfo).port;

    // Alertmanager with the shipped routing.
    const slackUrlFile = path.join(dir, 'slack-url');
    writeFileSync(slackUrlFile, `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/XXXX`);
    const amConfig = path.join(dir, 'alertmanager.yml');
    writeFileSync(
      amConfig,
      testAlertmanagerConfig(readFileSync(path.join(deployDir, 'prometheus/alertmanager.yml'), 'utf8'), {
        slackUrlFile,
        smtp: `127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      }),
    );
    const amPort = await freePort();
    mkdirSync(path.join(dir, 'am'));
    alertmanager = startDaemon('prometheus-alertmanager', [
      `--config.file=${amConfig}`,
      `--storage.path=${path.join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);

    // Prometheus scraping djcast every second with the shipped rules.
    writeFileSync(
      path.join(dir, 'djcast.rules.yml'),
      testRules(readFileSync(path.join(deployDir, 'prometheus/djcast.rules.yml'), 'utf8')),
    );
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['djcast.rules.yml'],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [{ job_name: 'djcast-server', static_configs: [{ targets: [`127.0.0.1:${djcastPort}`] }] }],
      }),
    );
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = startDaemon('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);

    await waitFor(
      'Alertmanager to be ready',
      async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok,
      60_000,
      200,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}${diagnostics()}`);
    });
    await waitFor(
      'Prometheus to scrape djcast',
      async () => (await query('up{job="djcast-server"} == 1')).length === 1,
      90_000,
      250,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}${diagnostics()}`);
    });
  }, 180_000);

  afterAll(async () => {
    if (boomTimer) clearInterval(boomTimer);
    await stopDaemon(prometheus);
    await stopDaemon(alertmanager);
    await new Promise((resolve) => server?.close(resolve));
    server?.closeAllConnections();
    await t?.close();
    await source?.close();
    await new Promise((resolve) => slack?.close(resolve));
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the test copy of the routing still passes amtool check-config', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('amtool', ['check-config', path.join(dir, 'alertmanager.yml')]);
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(text))));
    });
    expect(out).toContain('SUCCESS');
  });

  it('a relay silent for 2 minutes fires DjcastRelayHeartbeatMissing with stream_id and last_seen; a beating one does not', async () => {
    const dj = await signUp(t);
    const register = async (name: string) => {
      const res = await t.request('POST', '/v1/streams', { token: dj.token, body: { name, source_url: `${source.url}/live` } });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const beat = async (streamId: string) => {
      const spec = launcher.specFor(streamId);
      const res = await t.request('POST', `/v1/relays/${spec.relayId}/heartbeat`, {
        token: spec.relayToken,
        body: { state: 'live', listener_count: 4, relay_connections: 1, cpu_usage: 9.5 },
      });
      expect(res.status).toBe(200);
    };
    const silent = await register('silent set');
    const beating = await register('beating set');
    // The silent relay's last heartbeat is 200 s old, on a whole second so last_seen is exact.
    const lastSeenMs = Math.floor(Date.now() / 1000) * 1000 - 200_000;
    clockFixedMs = lastSeenMs;
    await beat(silent);
    clockFixedMs = null;
    await beat(beating);

    const alert = await waitFor(
      'the heartbeat alert at the Slack receiver',
      () =>
        slackMessages
          .flatMap((m) => m.attachments ?? [])
          .find((a) => a.title?.includes('DjcastRelayHeartbeatMissing') && a.text?.includes(`stream_id=${silent}`)),
      90_000,
      250,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}${diagnostics()}`);
    });
    const lastSeen = new Date(lastSeenMs).toISOString().replace('T', ' ').replace('.000Z', ' +0000 UTC');
    expect(alert.text).toContain(`last_seen=${lastSeen}`);
    expect(alert.text).toContain('severity=page');
    const active = (await firing()).filter((a) => a.labels.alertname === 'DjcastRelayHeartbeatMissing');
    expect(active.map((a) => a.labels.stream_id)).toEqual([silent]);
    expect(active[0]!.labels.last_seen).toBe(lastSeen);
    // Pages go by mail too.
    await waitFor('the heartbeat alert by mail', () => mails.find((m) => m.includes('DjcastRelayHeartbeatMissing')), 60_000, 250);
    expect(slackMessages.flatMap((m) => m.attachments ?? []).some((a) => a.text?.includes(`stream_id=${beating}`))).toBe(false);
  }, 180_000);

  it('a burst of 5xx fires DjcastHighErrorRate, delivered to Slack and by mail', async () => {
    expect((await firing()).some((a) => a.labels.alertname === 'DjcastHighErrorRate')).toBe(false);
    // Keep failing requests coming (rate() needs the counter to grow across scrapes), with ok ones beside them.
    const hit = () => {
      void fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/test/boom`).catch(() => {});
      void fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`).catch(() => {});
    };
    hit();
    boomTimer = setInterval(hit, 100);
    try {
      const message = await waitFor(
        'the 5xx alert at the Slack receiver',
        () => slackMessages.flatMap((m) => m.attachments ?? []).find((a) => a.title?.includes('DjcastHighErrorRate')),
        90_000,
        250,
      ).catch((e) => {
        throw new Error(`${(e as Error).message}${diagnostics()}`);
      });
      expect(message.title).toContain('FIRING');
      expect(message.text).toMatch(/of requests answered 5xx over 5 minutes/);
      const mail = await waitFor(
        'the 5xx alert by mail',
        () => mails.find((m) => m.includes('DjcastHighErrorRate')),
        60_000,
        250,
      );
      expect(mail).toMatch(/^To: oncall@djcast\.example/im);
      // The 5xx carried the route template, and the ratio Prometheus computes is well over 1%.
      const [ratio] = await query('sum(rate(http_requests_total{status_code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))');
      expect(Number(ratio!.value[1])).toBeGreaterThan(0.01);
      expect((await query('http_requests_total{route="/test/boom",status_code="500"}')).length).toBe(1);
    } finally {
      if (boomTimer) clearInterval(boomTimer);
      boomTimer = null;
    }
  }, 180_000);

  it('every panel of the Grafana dashboard returns data from this Prometheus', async () => {
    const dashboard = JSON.parse(readFileSync(path.join(deployDir, 'grafana/djcast-overview.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        // Grafana replaces $__rate_interval with at least four scrape intervals.
        const expr = target.expr.replaceAll('$__rate_interval', '1m');
        const result = await waitFor(`data for "${panel.title}": ${expr}`, async () => {
          const r = await query(expr);
          return r.length > 0 && r.every((s) => Number.isFinite(Number(s.value[1]))) ? r : null;
        });
        expect(result.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
      }
    }
  }, 180_000);
});
