// KubernetesRelayLauncher through the real @kubernetes/client-node code path,
// against the fake API server in test/fake-kubernetes.ts (HTTPS, token, schema checks).
import { request } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeKubernetes, type FakeKubernetes, type FakeResource, type FakeVerb } from '../../../test/fake-kubernetes.js';
import { relaySpec, SECRET_VALUES } from '../../../test/k8s-fixtures.js';
import {
  KubernetesApiError,
  KubernetesRelayLauncher,
  RELAY_KUBERNETES_PERMISSIONS,
  type KubernetesRelayLauncherOptions,
} from './kubernetes.js';
import { relayResourceName } from './pod-spec.js';
import type { RelayLogEntry } from './types.js';

let fake: FakeKubernetes;
let logs: RelayLogEntry[] = [];

beforeEach(async () => {
  fake = await startFakeKubernetes({ podDeletionDelayMs: 150 });
  logs = [];
});
afterEach(async () => {
  await fake.close();
});

function launcher(extra: Partial<KubernetesRelayLauncherOptions> = {}) {
  return new KubernetesRelayLauncher({
    cluster: { kubeconfigPath: fake.kubeconfigPath },
    namespace: 'djcast',
    image: 'ghcr.io/djcast/relay:1.2.3',
    storageSecretName: 'djcast-storage',
    retry: { attempts: 4, initialDelayMs: 10, maxDelayMs: 50 },
    pollIntervalMs: 20,
    deleteTimeoutMs: 5000,
    logger: (entry) => logs.push(entry),
    ...extra,
  });
}

const spec = relaySpec();
const name = relayResourceName(spec.relayId);
const podKey = `djcast/${name}`;
const calls = () =>
  fake.requests.map(
    (r) => `${r.method} ${r.resource ?? r.path}${r.name ? `/${r.name === name ? '<relay>' : r.name}` : ''} ${r.status}`,
  );

describe('KubernetesRelayLauncher', () => {
  it('start creates the relay Secret and a Pod with the right labels, probes and secret references', async () => {
    await launcher().start(spec);
    expect(calls()).toEqual(['POST secrets 201', 'POST pods 201']);
    const pod = fake.pods.get(podKey)! as {
      metadata: { labels: Record<string, string> };
      spec: { containers: Array<Record<string, any>> };
    };
    expect(pod.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'djcast-relay',
      'app.kubernetes.io/component': 'relay',
      'djcast.io/stream-id': spec.streamId,
      'djcast.io/relay-id': spec.relayId,
    });
    const container = pod.spec.containers[0]!;
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(container.env).toContainEqual({
      name: 'DJCAST_RELAY_TOKEN',
      valueFrom: { secretKeyRef: { name, key: 'DJCAST_RELAY_TOKEN' } },
    });
    const podRequest = JSON.stringify(fake.requests.find((r) => r.resource === 'pods' && r.method === 'POST')!.body);
    for (const secret of Object.values(SECRET_VALUES)) expect(podRequest).not.toContain(secret);
    const secret = fake.secrets.get(podKey)! as { data: Record<string, string> };
    expect(Buffer.from(secret.data.DJCAST_RELAY_TOKEN!, 'base64').toString()).toBe(SECRET_VALUES.relayToken);
    expect(Buffer.from(secret.data.DJCAST_SOURCE_PASSWORD!, 'base64').toString()).toBe(SECRET_VALUES.sourcePassword);
  });

  it('start is idempotent: the same spec keeps the running Pod', async () => {
    const l = launcher();
    await l.start(spec);
    const uid = (fake.pods.get(podKey)!.metadata as { uid: string }).uid;
    fake.requests.length = 0;
    await l.start(spec);
    expect(calls()).toEqual(['POST secrets 409', 'GET secrets/<relay> 200', 'POST pods 409', 'GET pods/<relay> 200']);
    expect((fake.pods.get(podKey)!.metadata as { uid: string }).uid).toBe(uid);
  });

  it('start with a changed spec or a rotated secret replaces the Pod once the old one is gone', async () => {
    const l = launcher();
    await l.start(spec);
    const firstUid = (fake.pods.get(podKey)!.metadata as { uid: string }).uid;
    fake.requests.length = 0;
    await l.start(relaySpec({ audio: 'copy' }));
    const sequence = calls();
    expect(sequence.slice(0, 5)).toEqual([
      'POST secrets 409',
      'GET secrets/<relay> 200',
      'POST pods 409',
      'GET pods/<relay> 200',
      'DELETE pods/<relay> 200',
    ]);
    expect(sequence.slice(-2)).toEqual(['GET pods/<relay> 404', 'POST pods 201']);
    const secondUid = (fake.pods.get(podKey)!.metadata as { uid: string }).uid;
    expect(secondUid).not.toBe(firstUid);

    fake.requests.length = 0;
    await l.start(relaySpec({ audio: 'copy', relayToken: 'rt_rotated_token_value_0123456789' }));
    expect(calls()).toContain('PUT secrets/<relay> 200');
    expect(calls().at(-1)).toBe('POST pods 201');
    const secret = fake.secrets.get(podKey)! as { data: Record<string, string> };
    expect(Buffer.from(secret.data.DJCAST_RELAY_TOKEN!, 'base64').toString()).toBe('rt_rotated_token_value_0123456789');
    expect((fake.pods.get(podKey)!.metadata as { uid: string }).uid).not.toBe(secondUid);
  });

  it('stop deletes the Pod and the Secret; stopping a missing relay is fine', async () => {
    const l = launcher();
    await l.start(spec);
    fake.requests.length = 0;
    await l.stop(spec.relayId);
    expect(calls()).toEqual(['DELETE pods/<relay> 200', 'DELETE secrets/<relay> 200']);
    expect(fake.secrets.size).toBe(0);
    fake.requests.length = 0;
    await l.stop('rly_never_started');
    expect(fake.requests.map((r) => r.status)).toEqual([404, 404]);
  });

  it('restart deletes the Pod, waits until it is gone, and creates it again', async () => {
    const l = launcher();
    await l.start(spec);
    const firstUid = (fake.pods.get(podKey)!.metadata as { uid: string }).uid;
    fake.requests.length = 0;
    await l.restart(spec);
    const sequence = calls();
    expect(sequence[0]).toBe('DELETE pods/<relay> 200');
    // Terminating for 150 ms: polled until it is gone, then recreated.
    const gone = sequence.indexOf('GET pods/<relay> 404');
    expect(sequence.slice(1, gone).length).toBeGreaterThanOrEqual(1);
    expect(sequence.slice(1, gone).every((c) => c === 'GET pods/<relay> 200')).toBe(true);
    expect(sequence.slice(gone + 1)).toEqual(['POST secrets 409', 'GET secrets/<relay> 200', 'POST pods 201']);
    expect((fake.pods.get(podKey)!.metadata as { uid: string }).uid).not.toBe(firstUid);
  });

  it('restart gives up when the old Pod never goes away', async () => {
    await fake.close();
    fake = await startFakeKubernetes({ podDeletionDelayMs: 60_000 });
    const l = launcher({ deleteTimeoutMs: 200 });
    await l.start(spec);
    await expect(l.restart(spec)).rejects.toThrow(/still exists 200 ms after its deletion/);
  });

  it('list finds relay Pods by label and reports their ids and state', async () => {
    const l = launcher();
    await l.start(spec);
    await l.start(relaySpec({ relayId: 'rly_second', streamId: 'str_second' }));
    fake.pods.set('djcast/unrelated', {
      metadata: { name: 'unrelated', labels: { 'app.kubernetes.io/name': 'other' } },
      status: { phase: 'Running' },
    });
    fake.requests.length = 0;
    const relays = await l.list();
    expect(fake.requests[0]!.query.labelSelector).toBe('app.kubernetes.io/name=djcast-relay');
    expect(relays.sort((a, b) => a.relayId.localeCompare(b.relayId))).toEqual([
      { relayId: spec.relayId, streamId: spec.streamId, running: true },
      { relayId: 'rly_second', streamId: 'str_second', running: true },
    ]);
    await l.stop('rly_second');
    // Terminating for a while (150 ms here), then gone.
    expect(await l.list()).toContainEqual({ relayId: 'rly_second', streamId: 'str_second', running: false });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await l.list()).toEqual([{ relayId: spec.relayId, streamId: spec.streamId, running: true }]);
  });

  it('retries 500 and 429 from the API with backoff, then succeeds', async () => {
    fake.failNext(2, { status: 500, match: (r) => r.resource === 'pods' && r.verb === 'create' });
    fake.failNext(1, { status: 429, retryAfterSeconds: 1, match: (r) => r.resource === 'secrets' });
    await launcher().start(spec);
    expect(calls()).toEqual(['POST secrets 429', 'POST secrets 201', 'POST pods 500', 'POST pods 500', 'POST pods 201']);
    const retries = logs.filter((l) => l.msg === 'Kubernetes API call failed; retrying').map((l) => l.record);
    expect(retries).toEqual([
      { resource: 'secrets', verb: 'create', target: name, status: 429, attempt: 1, delayMs: 50 },
      { resource: 'pods', verb: 'create', target: name, status: 500, attempt: 1, delayMs: 10 },
      { resource: 'pods', verb: 'create', target: name, status: 500, attempt: 2, delayMs: 20 },
    ]);
  });

  it('a create that succeeded behind a 500 is recognised on retry (409, same Pod)', async () => {
    fake.failNext(1, { status: 500, afterCommit: true, match: (r) => r.resource === 'pods' && r.verb === 'create' });
    await launcher().start(spec);
    expect(calls()).toEqual(['POST secrets 201', 'POST pods 500', 'POST pods 409', 'GET pods/<relay> 200']);
    expect(fake.pods.size).toBe(1);
  });

  it('stops retrying after the configured attempts', async () => {
    fake.failNext(10, { status: 503 });
    const error = await launcher()
      .start(spec)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ status: 503, message: expect.stringMatching(/create secrets .* failed after 4 attempts/) });
    expect(fake.requests).toHaveLength(4);
  });

  it('an invalid manifest is refused with 422 and not retried', async () => {
    const error = await launcher({ storageSecretName: 'Not_A_Valid_Name' })
      .start(spec)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect((error as KubernetesApiError).status).toBe(422);
    expect((error as Error).message).toMatch(/spec\.containers\[0\]\.envFrom\[0\]\.secretRef\.name/);
    expect(calls()).toEqual(['POST secrets 201', 'POST pods 422']);
    expect(fake.pods.size).toBe(0);
  });

  it('is refused without the right token', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(fake.kubeconfigPath);
    const wrong = path.join(path.dirname(fake.kubeconfigPath), 'wrong.yaml');
    await writeFile(wrong, kc.exportConfig().replace(fake.token, 'not-the-token'));
    await expect(launcher({ cluster: { kubeconfigPath: wrong } }).list()).rejects.toMatchObject({ status: 401 });
  });

  it('runs in-cluster from the mounted service account token and CA', async () => {
    const prefix = path.join(path.dirname(fake.kubeconfigPath), 'mount');
    const saDir = path.join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
    await mkdir(saDir, { recursive: true });
    const kc = new KubeConfig();
    kc.loadFromFile(fake.kubeconfigPath);
    await writeFile(path.join(saDir, 'token'), fake.token);
    await writeFile(path.join(saDir, 'ca.crt'), Buffer.from(kc.getCurrentCluster()!.caData!, 'base64'));
    await writeFile(path.join(saDir, 'namespace'), 'djcast');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
    process.env.KUBERNETES_SERVICE_PORT = new URL(fake.url).port;
    try {
      const l = launcher({ cluster: { inCluster: true, mountPrefix: prefix } });
      await l.start(spec);
      expect(await l.list()).toHaveLength(1);
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = saved.host;
      process.env.KUBERNETES_SERVICE_PORT = saved.port;
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
    }
  });

  it('sends exactly the verbs RELAY_KUBERNETES_PERMISSIONS declares (what role.yaml grants)', async () => {
    const l = launcher();
    await l.start(spec);
    await l.start(spec);
    await l.start(relaySpec({ relayToken: 'rt_rotated_token_value_0123456789' }));
    await l.restart(spec);
    await l.list();
    await l.stop(spec.relayId);
    const used = fake.verbsUsed();
    const declared = RELAY_KUBERNETES_PERMISSIONS as Record<FakeResource, readonly FakeVerb[]>;
    for (const resource of ['pods', 'secrets'] as const)
      expect([...used[resource]].sort()).toEqual([...declared[resource]].sort());
  });

  it('close() releases the launcher; later calls are refused', async () => {
    const l = launcher();
    await l.close();
    await expect(l.start(spec)).rejects.toThrow(/closed/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('fake Kubernetes API', () => {
  function api() {
    const kc = new KubeConfig();
    kc.loadFromFile(fake.kubeconfigPath);
    return { kc, core: kc.makeApiClient(CoreV1Api) };
  }

  it('refuses a Pod with a bad name, an unknown probe port or request over limit, with the API Status', async () => {
    const { core } = api();
    const body = {
      metadata: { name: 'Bad_Name' },
      spec: {
        containers: [
          {
            name: 'relay',
            image: 'x',
            livenessProbe: { httpGet: { path: '/', port: 'nope' } },
            resources: { requests: { memory: '1Gi' }, limits: { memory: '128Mi' } },
          },
        ],
      },
    };
    const error = await core.createNamespacedPod({ namespace: 'djcast', body }).catch((e: { code: number; body: string }) => e);
    expect((error as { code: number }).code).toBe(422);
    const status = JSON.parse((error as { body: string }).body) as {
      reason: string;
      details: { causes: Array<{ field: string }> };
    };
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes.map((c) => c.field)).toEqual(
      expect.arrayContaining([
        'metadata.name',
        'spec.containers[0].livenessProbe.httpGet.port',
        'spec.containers[0].resources.requests[memory]',
      ]),
    );
  });

  it('refuses a Secret with an invalid key and stores stringData as base64 data', async () => {
    const { core } = api();
    await expect(
      core.createNamespacedSecret({ namespace: 'djcast', body: { metadata: { name: 's' }, stringData: { 'bad key!': 'x' } } }),
    ).rejects.toMatchObject({ code: 422 });
    const created = await core.createNamespacedSecret({
      namespace: 'djcast',
      body: { metadata: { name: 's' }, stringData: { KEY: 'value' } },
    });
    expect(created.data).toEqual({ KEY: Buffer.from('value').toString('base64') });
    expect(created.stringData).toBeUndefined();
  });

  it('enforces the restricted Pod Security Standard like the namespace does', async () => {
    const { core } = api();
    const body = {
      metadata: { name: 'root-pod' },
      spec: { containers: [{ name: 'c', image: 'i', securityContext: { privileged: true } }] },
    };
    const error = await core.createNamespacedPod({ namespace: 'djcast', body }).catch((e: { code: number; body: string }) => e);
    expect((error as { code: number }).code).toBe(403);
    expect((error as { body: string }).body).toMatch(/violates PodSecurity \\"restricted:latest\\".*privileged: must be false/);
  });

  it('checks content type, JSON body and namespace of raw requests', async () => {
    const { kc } = api();
    const ca = Buffer.from(kc.getCurrentCluster()!.caData!, 'base64');
    const send = (method: string, urlPath: string, body: string, contentType: string) =>
      new Promise<{ status: number; reason: string }>((resolve, reject) => {
        const req = request(
          `${fake.url}${urlPath}`,
          {
            method,
            ca,
            headers: { authorization: `Bearer ${fake.token}`, 'content-type': contentType, accept: 'application/json' },
          },
          (res) => {
            let data = '';
            res.on('data', (c: Buffer) => (data += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, reason: (JSON.parse(data) as { reason: string }).reason }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await send('POST', '/api/v1/namespaces/djcast/pods', '{}', 'text/plain')).toEqual({
      status: 415,
      reason: 'UnsupportedMediaType',
    });
    expect(await send('POST', '/api/v1/namespaces/djcast/pods', '{not json', 'application/json')).toEqual({
      status: 400,
      reason: 'BadRequest',
    });
    expect(await send('POST', '/api/v1/namespaces/djcast/pods', '[]', 'application/json')).toEqual({
      status: 400,
      reason: 'BadRequest',
    });
    const otherNamespace = JSON.stringify({
      metadata: { name: 'p', namespace: 'elsewhere' },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    expect(await send('POST', '/api/v1/namespaces/djcast/pods', otherNamespace, 'application/json')).toEqual({
      status: 400,
      reason: 'BadRequest',
    });
    expect(await send('PATCH', '/api/v1/namespaces/djcast/pods/p', '{}', 'application/merge-patch+json')).toEqual({
      status: 405,
      reason: 'MethodNotAllowed',
    });
    expect(await send('GET', '/api/v1/namespaces/djcast/configmaps', '', 'application/json')).toEqual({
      status: 404,
      reason: 'NotFound',
    });
  });
});
