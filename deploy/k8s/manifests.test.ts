// Every manifest here is valid for the Kubernetes API (the same checks the fake
// API server applies to relay Pods), and the Role grants exactly what the
// relay launcher calls.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { RELAY_KUBERNETES_PERMISSIONS } from '../../packages/server/src/adapters/relay-launcher/kubernetes.js';
import { buildRelayPod } from '../../packages/server/src/adapters/relay-launcher/pod-spec.js';
import {
  describeProblems,
  restrictedPodSecurityProblems,
  validateKubernetesObject,
} from '../../packages/server/test/k8s-schema.js';
import { relaySpec } from '../../packages/server/test/k8s-fixtures.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .sort();

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(path.join(dir, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Obj;
  });
}

const objects = files.flatMap((file) => load(file).map((object) => ({ file, object })));
const find = (kind: string, name?: string) => {
  const found = objects.filter(({ object }) => object.kind === kind && (name === undefined || object.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!.object;
};

describe('deploy/k8s manifests', () => {
  it('has the expected files', () => {
    expect(files).toEqual([
      'namespace.yaml',
      'relay-secret.example.yaml',
      'role.yaml',
      'rolebinding.yaml',
      'server-deployment.yaml',
      'server-secret.example.yaml',
      'server-service.yaml',
      'serviceaccount.yaml',
      'worker-deployment.yaml',
    ]);
  });

  it.each(files)('%s is valid against the Kubernetes schema and API validation', (file) => {
    const docs = load(file);
    expect(docs.length).toBeGreaterThan(0);
    for (const object of docs) {
      const problems = validateKubernetesObject(object);
      expect(problems, `${file} ${object.kind}/${object.metadata?.name}: ${describeProblems(problems)}`).toEqual([]);
    }
  });

  it('puts every namespaced object in the namespace the Namespace manifest creates', () => {
    const namespace = find('Namespace').metadata.name;
    for (const { file, object } of objects) {
      if (object.kind !== 'Namespace') expect(object.metadata.namespace, file).toBe(namespace);
    }
    expect(find('RoleBinding').subjects.every((s: { namespace: string }) => s.namespace === namespace)).toBe(true);
  });

  it('kustomization.yaml lists every manifest but the examples, and only existing files', () => {
    const [kustomization] = parseAllDocuments(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')).map(
      (d) => d.toJS() as { resources: string[]; namespace: string; kind: string },
    );
    expect(kustomization!.kind).toBe('Kustomization');
    expect(kustomization!.namespace).toBe(find('Namespace').metadata.name);
    expect([...kustomization!.resources].sort()).toEqual(files.filter((f) => !f.endsWith('.example.yaml')));
  });

  it('the Role grants exactly the verbs the relay launcher calls, on pods and secrets only', () => {
    const role = find('Role');
    const granted: Record<string, string[]> = {};
    for (const rule of role.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>) {
      expect(rule.apiGroups).toEqual(['']);
      for (const resource of rule.resources) {
        expect(rule.verbs).not.toContain('*');
        granted[resource] = [...(granted[resource] ?? []), ...rule.verbs].sort();
      }
    }
    const expected = Object.fromEntries(
      Object.entries(RELAY_KUBERNETES_PERMISSIONS).map(([resource, verbs]) => [resource, [...verbs].sort()]),
    );
    expect(granted).toEqual(expected);
  });

  it('binds the Role to the service account the server runs as', () => {
    const binding = find('RoleBinding');
    const deployment = find('Deployment', 'djcast-server');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: find('Role').metadata.name });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: 'djcast' },
    ]);
    find('ServiceAccount', deployment.spec.template.spec.serviceAccountName);
  });

  it('runs the server with its Secret, the Kubernetes launcher and health probes', () => {
    const deployment = find('Deployment', 'djcast-server');
    const container = deployment.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: { name: string; value?: string }) => [e.name, e.value ?? e]));
    expect(container.envFrom).toEqual([{ secretRef: { name: find('Secret', 'djcast-server').metadata.name } }]);
    expect(env.DJCAST_RELAY_LAUNCHER).toBe('kubernetes');
    expect(env.DJCAST_PORT).toBe(String(container.ports[0].containerPort));
    expect(env.DJCAST_K8S_NAMESPACE).toEqual({
      name: 'DJCAST_K8S_NAMESPACE',
      valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
    });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const service = find('Service', 'djcast-server');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports[0].targetPort).toBe(container.ports[0].name);
    expect(env.DJCAST_RELAY_API_URL).toBe(`http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
  });

  it('runs the job workers apart from the API, with the same image, Secret and launcher settings', () => {
    const server = find('Deployment', 'djcast-server').spec.template.spec;
    const worker = find('Deployment', 'djcast-worker').spec.template.spec;
    const envOf = (container: { env: { name: string; value?: string }[] }) =>
      Object.fromEntries(container.env.map((e) => [e.name, e.value ?? e]));
    const serverEnv = envOf(server.containers[0]);
    const workerEnv = envOf(worker.containers[0]);
    // The API serves requests only; without this every replica would also run jobs.
    expect(serverEnv.DJCAST_JOB_WORKER).toBe('off');
    expect(worker.containers[0].args).toEqual(['worker']);
    expect(worker.containers[0].image).toBe(server.containers[0].image);
    expect(worker.containers[0].envFrom).toEqual(server.containers[0].envFrom);
    expect(worker.serviceAccountName).toBe(server.serviceAccountName);
    for (const name of [
      'DJCAST_DATA_DIR',
      'DJCAST_RELAY_LAUNCHER',
      'DJCAST_K8S_NAMESPACE',
      'DJCAST_K8S_RELAY_IMAGE',
      'DJCAST_RELAY_API_URL',
    ]) {
      expect(workerEnv[name], name).toEqual(serverEnv[name]);
    }
    expect(restrictedPodSecurityProblems(worker)).toEqual([]);
    expect(JSON.stringify(worker)).not.toMatch(/SECRET_ACCESS_KEY|JWT_SECRET|DATABASE_URL|PASSWORD/);
  });

  it('keeps secrets out of everything but the example Secrets', () => {
    for (const { file, object } of objects) {
      if (object.kind === 'Secret') expect(file).toMatch(/\.example\.yaml$/);
    }
    const deployment = JSON.stringify(find('Deployment', 'djcast-server'));
    expect(deployment).not.toMatch(/SECRET_ACCESS_KEY|JWT_SECRET|DATABASE_URL|PASSWORD/);
  });

  it('the server and relay Pods meet the restricted Pod Security Standard the namespace enforces', () => {
    expect(find('Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(restrictedPodSecurityProblems(find('Deployment', 'djcast-server').spec.template.spec)).toEqual([]);
    const relayPod = buildRelayPod(relaySpec(), {
      image: 'djcast/relay:latest',
      namespace: 'djcast',
      secretName: 'djcast-relay-x',
      storageSecretName: find('Secret', 'djcast-relay-storage').metadata.name,
    });
    expect(restrictedPodSecurityProblems(relayPod.spec)).toEqual([]);
    expect(validateKubernetesObject(relayPod)).toEqual([]);
  });

  it('the validator is not a rubber stamp: it refuses broken copies of these manifests', () => {
    const deployment = structuredClone(find('Deployment', 'djcast-server'));
    deployment.spec.template.spec.containers[0].readinesProbe = deployment.spec.template.spec.containers[0].readinessProbe;
    deployment.spec.selector.matchLabels['app.kubernetes.io/name'] = 'other';
    deployment.spec.template.spec.containers[0].resources.limits.memory = 'a lot';
    const fields = validateKubernetesObject(deployment).map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'spec.template.spec.containers[0].readinesProbe',
        'spec.template.metadata.labels',
        'spec.template.spec.containers[0].resources.limits.memory',
      ]),
    );
    const role = structuredClone(find('Role'));
    role.metadata.name = 'Not Valid';
    delete role.rules[0].apiGroups;
    expect(validateKubernetesObject(role).map((p) => p.field)).toEqual(
      expect.arrayContaining(['metadata.name', 'rules[0].apiGroups']),
    );
  });
});
