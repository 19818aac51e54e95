// The shipped Vector configuration, checked for structure (Vector itself is not
// packaged by Debian, so it is not run here): every component has a known type
// and its inputs exist, every source reaches the Elasticsearch sink, the
// Kubernetes source selects every djcast workload that logs (the Deployments in
// deploy/k8s and the relay Pods the server creates), the daily index names
// match the index template's pattern, and credentials come only from the
// environment.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { LABEL_NAME, relayLabels } from '../../packages/server/src/adapters/relay-launcher/pod-spec.js';
import { relaySpec } from '../../packages/server/test/k8s-fixtures.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
type Component = { type: string; inputs?: string[]; [k: string]: unknown };
const config = parse(readFileSync(path.join(dir, 'vector.yaml'), 'utf8')) as {
  sources: Record<string, Component>;
  transforms: Record<string, Component>;
  sinks: Record<string, Component>;
};
const template = JSON.parse(readFileSync(path.join(dir, 'elasticsearch-index-template.json'), 'utf8')) as {
  index_patterns: string[];
};

/** The `app.kubernetes.io/name` of every workload in deploy/k8s whose Pods run djcast. */
function workloadNames(): string[] {
  const k8s = path.join(dir, '../k8s');
  const names: string[] = [];
  for (const file of readdirSync(k8s).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(path.join(k8s, file), 'utf8'))) {
      const obj = doc.toJS() as { kind?: string; spec?: { template?: { metadata?: { labels?: Record<string, string> } } } };
      const name = obj?.kind === 'Deployment' ? obj.spec?.template?.metadata?.labels?.[LABEL_NAME] : undefined;
      if (name) names.push(name);
    }
  }
  return names;
}

describe('deploy/logging/vector.yaml', () => {
  const all = { ...config.sources, ...config.transforms, ...config.sinks };

  it('has only sources, transforms and sinks, of types Vector has, wired to components that exist', () => {
    expect(Object.keys(config).sort()).toEqual(['sinks', 'sources', 'transforms']);
    const known = { sources: ['kubernetes_logs'], transforms: ['remap'], sinks: ['elasticsearch'] };
    for (const [section, types] of Object.entries(known)) {
      for (const [name, c] of Object.entries(config[section as keyof typeof known])) {
        expect(types, `${section}.${name}`).toContain(c.type);
        if (section === 'sources') expect(c.inputs, name).toBeUndefined();
        else for (const input of c.inputs ?? ['(none)']) expect(Object.keys(all), `${name} reads ${input}`).toContain(input);
      }
    }
    // Every source ends up in a sink.
    const reaches = (name: string, seen = new Set<string>()): boolean =>
      Object.entries(all).some(([next, c]) => {
        if (!c.inputs?.includes(name) || seen.has(next)) return false;
        seen.add(next);
        return next in config.sinks || reaches(next, seen);
      });
    for (const name of Object.keys(config.sources)) expect(reaches(name), name).toBe(true);
  });

  it('selects the Pods of every djcast workload: the server, the job worker and the relays', () => {
    const selector = String(config.sources.djcast_pods!.extra_label_selector);
    const match = /^app\.kubernetes\.io\/name in \(([^)]*)\)$/.exec(selector);
    expect(match, selector).not.toBeNull();
    const selected = match![1]!.split(',').map((s) => s.trim());
    const relayName = relayLabels(relaySpec())[LABEL_NAME]!;
    const expected = [...workloadNames(), relayName];
    expect(expected).toEqual(expect.arrayContaining(['djcast-server', 'djcast-worker', 'djcast-relay']));
    for (const name of expected) expect(selected, `${name}'s Pods are not shipped`).toContain(name);
  });

  it('writes daily indices the index template applies to, with credentials from the environment', () => {
    const sink = config.sinks.elasticsearch as Component & {
      endpoints: string[];
      bulk: { index: string };
      auth: { strategy: string; user: string; password: string };
    };
    const index = sink.bulk.index.replace('%Y', '2025').replace('%m', '06').replace('%d', '01');
    expect(index).toBe('djcast-logs-2025.06.01');
    const patterns = template.index_patterns.map(
      (p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
    );
    expect(patterns.some((p) => p.test(index))).toBe(true);
    for (const value of [...sink.endpoints, sink.auth.user, sink.auth.password]) expect(value).toMatch(/^\$\{[A-Z_]+\}$/);
  });

  it('the remap keeps lines that are not JSON and gives every line a timestamp', () => {
    const source = String(config.transforms.djcast_json!.source);
    expect(source).toMatch(/parse_json\(\.message\)/);
    expect(source).toMatch(/if !exists\(\.timestamp\) \{ \.timestamp = now\(\) \}/);
  });
});
