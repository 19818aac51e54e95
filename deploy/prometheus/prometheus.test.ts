// The shipped Prometheus files are valid for the real tools, and every alert
// is unit-tested by promtool (tests/*.test.yml: each fires and stays quiet).
// The PodMonitors select the Pods the Deployment and the relay launcher make.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { buildRelayPod } from '../../packages/server/src/adapters/relay-launcher/pod-spec.js';
import { relaySpec } from '../../packages/server/test/k8s-fixtures.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

async function tool(bin: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(bin, args, { cwd: dir, timeout: 60_000 });
    return stdout + stderr;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      const pkg = bin === 'amtool' ? 'prometheus-alertmanager' : 'prometheus';
      throw new Error(`${bin} is not installed: apt-get install -y ${pkg} (scripts/install-system-deps.sh)`);
    }
    throw new Error(`${bin} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const rules = parse(readFileSync(path.join(dir, 'djcast.rules.yml'), 'utf8')) as {
  groups: { rules: { alert: string; expr: string; labels?: Record<string, string> }[] }[];
};
const alerts = rules.groups.flatMap((g) => g.rules);
const ruleTests = readdirSync(path.join(dir, 'tests')).filter((f) => f.endsWith('.test.yml'));

describe('deploy/prometheus', () => {
  it('promtool check rules accepts the alert rules', async () => {
    expect(await tool('promtool', ['check', 'rules', 'djcast.rules.yml'])).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('promtool test rules: every alert fires and stays quiet as its tests say', async () => {
    expect(await tool('promtool', ['test', 'rules', ...ruleTests.map((f) => path.join('tests', f))])).toContain('SUCCESS');
  });

  it('every alert has a test where it fires and one where it does not', () => {
    const tests = ruleTests.flatMap(
      (f) =>
        (
          parse(readFileSync(path.join(dir, 'tests', f), 'utf8')) as {
            tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
          }
        ).tests,
    );
    const cases = tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alerts) {
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0),
        `${alert} stays quiet somewhere`,
      ).toBe(true);
    }
  });

  it('has the alerts the runbook names, on the metric names the code exports', () => {
    const byName = Object.fromEntries(alerts.map((a) => [a.alert, a]));
    expect(Object.keys(byName).sort()).toEqual([
      'DjcastCertificateExpiringSoon',
      'DjcastHighErrorRate',
      'DjcastRelayHeartbeatMissing',
      'DjcastTranscodeQueueBacklog',
      'DjcastWebhookDeliveryBacklog',
    ]);
    expect(byName.DjcastHighErrorRate!.expr).toContain('http_requests_total{status_code=~"5.."}[5m]');
    expect(byName.DjcastRelayHeartbeatMissing!.expr).toContain('relay_last_heartbeat_timestamp_seconds');
    expect(byName.DjcastRelayHeartbeatMissing!.labels).toHaveProperty('last_seen');
    expect(byName.DjcastCertificateExpiringSoon!.expr).toContain('djcast_certificate_expiry_timestamp_seconds');
    expect(byName.DjcastWebhookDeliveryBacklog!.expr).toContain('webhook_delivery_queue_age_seconds');
  });

  it('promtool check config accepts prometheus.yml', async () => {
    expect(await tool('promtool', ['check', 'config', 'prometheus.yml'])).toContain('is valid prometheus config file syntax');
  });

  it('amtool check-config accepts the Alertmanager routing', async () => {
    const out = await tool('amtool', ['check-config', 'alertmanager.yml']);
    expect(out).toContain('SUCCESS');
    expect(out).toContain('2 receivers');
  });

  it('the PodMonitors select the server Pods and the relay Pods, on their named metrics ports', () => {
    const monitors = parseAllDocuments(readFileSync(path.join(dir, 'podmonitor.yaml'), 'utf8')).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string; namespace: string };
          spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] };
        },
    );
    const deployment = parseAllDocuments(readFileSync(path.join(dir, '../k8s/server-deployment.yaml'), 'utf8'))
      .map((d) => d.toJS())
      .find((o) => o.kind === 'Deployment');
    const relayPod = buildRelayPod(relaySpec(), { image: 'djcast/relay:latest', namespace: 'djcast', secretName: 's' });
    const pods = [
      { labels: deployment.spec.template.metadata.labels, ports: deployment.spec.template.spec.containers[0].ports },
      { labels: relayPod.metadata!.labels!, ports: relayPod.spec!.containers[0]!.ports! },
    ];
    for (const pod of pods) {
      const matching = monitors.filter((m) => Object.entries(m.spec.selector.matchLabels).every(([k, v]) => pod.labels[k] === v));
      expect(matching, JSON.stringify(pod.labels)).toHaveLength(1);
      const monitor = matching[0]!;
      expect(monitor.kind).toBe('PodMonitor');
      expect(monitor.metadata.namespace).toBe(deployment.metadata.namespace);
      for (const endpoint of monitor.spec.podMetricsEndpoints) {
        expect(pod.ports.map((p: { name: string }) => p.name)).toContain(endpoint.port);
        expect(endpoint.path).toBe('/metrics');
      }
    }
  });
});
