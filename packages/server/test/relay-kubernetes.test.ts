/**
 * DJCAST_RELAY_LAUNCHER=kubernetes through the whole API: config picks the
 * Kubernetes launcher, registering a stream creates its relay Pod (and
 * Secret) in the configured namespace, the watchdog recreates the Pod of a
 * silent relay, and deleting the stream removes them. The cluster is the
 * fake Kubernetes API (real HTTPS, schema-checked objects) from
 * fake-kubernetes.ts; the launcher itself is tested by its owner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startFakeKubernetes, type FakeKubernetes } from './fake-kubernetes.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { startFakeIcecast, type FakeSource } from './relay-fakes.js';

type Json = Record<string, any>;
const IMAGE = 'ghcr.io/djcast/relay:test';

function envOf(pod: Json): Record<string, string> {
  const container = pod.spec.containers[0];
  return Object.fromEntries((container.env as Json[]).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value]));
}

describe('relay launcher configuration', () => {
  it('kubernetes needs DJCAST_K8S_RELAY_IMAGE; the kubeconfig is optional (in-cluster otherwise)', () => {
    expect(() => loadConfig({ DJCAST_RELAY_LAUNCHER: 'kubernetes' })).toThrow(
      /DJCAST_K8S_RELAY_IMAGE: required when DJCAST_RELAY_LAUNCHER is kubernetes/,
    );
    expect(loadConfig({ DJCAST_RELAY_LAUNCHER: 'kubernetes', DJCAST_K8S_RELAY_IMAGE: IMAGE }).relay.launcher).toEqual({
      kind: 'kubernetes',
      namespace: 'djcast',
      image: IMAGE,
      kubeconfig: undefined,
    });
    expect(loadConfig({}).relay).toMatchObject({
      launcher: { kind: 'process' },
      audio: 'aac',
      heartbeatTimeoutMs: 120_000,
      offlineAfterMs: 300_000,
      segmentSeconds: 6,
    });
    expect(() => loadConfig({ DJCAST_RELAY_AUDIO: 'flac' })).toThrow(/DJCAST_RELAY_AUDIO/);
    expect(() => loadConfig({ DJCAST_RELAY_LAUNCHER: 'docker' })).toThrow(/DJCAST_RELAY_LAUNCHER/);
  });
});

describe.each(DIALECTS)('relays as Kubernetes Pods on %s', (dialect) => {
  let k8s: FakeKubernetes;
  let source: FakeSource;
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    k8s = await startFakeKubernetes({ namespace: 'djcast-relays' });
    source = await startFakeIcecast();
    t = await createTestApp(dialect, {
      DJCAST_RELAY_LAUNCHER: 'kubernetes',
      DJCAST_K8S_KUBECONFIG: k8s.kubeconfigPath,
      DJCAST_K8S_NAMESPACE: 'djcast-relays',
      DJCAST_K8S_RELAY_IMAGE: IMAGE,
      DJCAST_RELAY_API_URL: 'http://djcast-api.djcast.svc:8787',
      DJCAST_RELAY_AUDIO: 'copy',
      DJCAST_RELAY_HEARTBEAT_TIMEOUT_SECONDS: '1',
      DJCAST_RELAY_WATCHDOG_INTERVAL_SECONDS: '600',
    });
    dj = await signUp(t);
  });
  afterAll(async () => {
    await t?.close();
    await source?.close();
    await k8s?.close();
  });

  const podsOf = (streamId: string) => [...k8s.pods.values()].filter((p) => envOf(p).DJCAST_STREAM_ID === streamId) as Json[];

  it('reports relay_launcher kubernetes on /healthz', async () => {
    expect(((await (await t.request('GET', '/healthz')).json()) as Json).backends.relay_launcher).toBe('kubernetes');
  });

  it('registering a stream creates its relay Pod; a stall recreates it; deleting the stream removes it', async () => {
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 'k8s set', source_url: `${source.url}/live`, visibility: 'private', monetization_enabled: true },
    });
    expect(res.status).toBe(201);
    const stream = (await res.json()) as Json;
    const [pod] = podsOf(stream.id);
    expect(pod, `pods: ${[...k8s.pods.keys()].join(', ')}`).toBeDefined();
    expect(pod!.metadata.namespace).toBe('djcast-relays');
    expect(pod!.spec.containers[0].image).toBe(IMAGE);
    const relayId = ((await (await t.request('GET', `/v1/streams/${stream.id}/status`, { token: dj.token })).json()) as Json)
      .relay_id;
    expect(envOf(pod!)).toMatchObject({
      DJCAST_RELAY_ID: relayId,
      DJCAST_SOURCE_URL: `${source.url}/live`,
      DJCAST_SOURCE_KIND: 'icecast',
      DJCAST_API_URL: 'http://djcast-api.djcast.svc:8787',
      DJCAST_RELAY_AUDIO: 'copy',
      DJCAST_RELAY_PAYWALL: 'on',
      DJCAST_RELAY_VISIBILITY: 'private',
      DJCAST_RELAY_OFFLINE_AFTER_MS: '300000',
      DJCAST_RELAY_SEGMENT_SECONDS: '6',
    });
    // The relay token is a Secret reference, never inline in the Pod.
    expect(JSON.stringify(pod)).not.toMatch(/djl_/);
    const uid = pod!.metadata.uid;

    await new Promise((r) => setTimeout(r, 1200));
    expect(await t.container.relayWatchdog.tick()).toEqual([relayId]);
    const [recreated] = podsOf(stream.id);
    expect(recreated).toBeDefined();
    expect(recreated!.metadata.uid).not.toBe(uid);
    expect(k8s.requests.some((r) => r.resource === 'pods' && r.verb === 'delete' && r.status < 300)).toBe(true);

    expect((await t.request('DELETE', `/v1/streams/${stream.id}`, { token: dj.token })).status).toBe(204);
    expect(podsOf(stream.id)).toEqual([]);
  });
});
