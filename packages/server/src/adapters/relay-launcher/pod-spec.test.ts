import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_RELAY_ID,
  ANNOTATION_SPEC_HASH,
  buildRelayPod,
  buildRelaySecret,
  DEFAULT_RELAY_RESOURCES,
  relayLabelValue,
  relayResourceName,
  RELAY_LABEL_SELECTOR,
} from './pod-spec.js';
import { relaySpec, SECRET_VALUES } from '../../../test/k8s-fixtures.js';
import { relayEnvironment } from './types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const opts = {
  image: 'ghcr.io/djcast/relay:1.2.3',
  namespace: 'djcast',
  secretName: 'djcast-relay-secret',
  storageSecretName: 'djcast-storage',
};

describe('relayResourceName', () => {
  it('is a DNS-1123 label of at most 63 characters for any id, deterministic and injective in practice (property)', () => {
    const seen = new Map<string, string>();
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 }), fc.stringMatching(/^rly_[0-9A-Z]{26}$/)),
        (id) => {
          const name = relayResourceName(id);
          expect(name.length).toBeLessThanOrEqual(63);
          expect(name).toMatch(DNS_LABEL);
          expect(relayResourceName(id)).toBe(name);
          const previous = seen.get(name);
          if (previous !== undefined) expect(previous).toBe(id);
          seen.set(name, id);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps the id readable', () => {
    expect(relayResourceName('rly_01JD3XK4Q8ZP2VN6M7RTY5W9AB')).toMatch(
      /^djcast-relay-rly-01jd3xk4q8zp2vn6m7rty5w9ab-[0-9a-f]{10}$/,
    );
    expect(relayResourceName('RLY_A')).not.toBe(relayResourceName('rly_a'));
  });

  it('label values are valid for any id and the id itself when possible (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (id) => {
        const value = relayLabelValue(id);
        expect(value.length).toBeLessThanOrEqual(63);
        expect(value).toMatch(LABEL_VALUE);
      }),
    );
    expect(relayLabelValue('str_01JD3XK0000000000000000000')).toBe('str_01JD3XK0000000000000000000');
  });
});

describe('buildRelayPod', () => {
  const spec = relaySpec();
  const pod = buildRelayPod(spec, opts);
  const container = pod.spec!.containers[0]!;

  it('names and labels the Pod so the launcher can find it', () => {
    expect(pod.apiVersion).toBe('v1');
    expect(pod.kind).toBe('Pod');
    expect(pod.metadata!.name).toBe(relayResourceName(spec.relayId));
    expect(pod.metadata!.namespace).toBe('djcast');
    expect(pod.metadata!.labels).toMatchObject({
      'app.kubernetes.io/name': 'djcast-relay',
      'app.kubernetes.io/component': 'relay',
      'djcast.io/stream-id': spec.streamId,
      'djcast.io/relay-id': spec.relayId,
    });
    expect(RELAY_LABEL_SELECTOR).toBe('app.kubernetes.io/name=djcast-relay');
    expect(pod.metadata!.annotations![ANNOTATION_RELAY_ID]).toBe(spec.relayId);
  });

  it('passes every non-secret variable inline and every secret through secretKeyRef', () => {
    const inline = Object.fromEntries(container.env!.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const expected: Record<string, string> = { DJCAST_RELAY_PORT: '9464', ...relayEnvironment(spec) };
    delete expected.DJCAST_S3_ACCESS_KEY_ID;
    delete expected.DJCAST_S3_SECRET_ACCESS_KEY;
    expect(inline).toEqual(expected);
    const fromSecret = container.env!.filter((e) => e.valueFrom);
    expect(fromSecret).toEqual([
      { name: 'DJCAST_RELAY_TOKEN', valueFrom: { secretKeyRef: { name: 'djcast-relay-secret', key: 'DJCAST_RELAY_TOKEN' } } },
      {
        name: 'DJCAST_SOURCE_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'djcast-relay-secret', key: 'DJCAST_SOURCE_PASSWORD' } },
      },
      {
        name: 'DJCAST_SOURCE_USERNAME',
        valueFrom: { secretKeyRef: { name: 'djcast-relay-secret', key: 'DJCAST_SOURCE_USERNAME' } },
      },
    ]);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'djcast-storage' } }]);
    expect(new Set(container.env!.map((e) => e.name)).size).toBe(container.env!.length);
  });

  it('contains no secret value anywhere, with or without a storage Secret', () => {
    for (const podJson of [JSON.stringify(pod), JSON.stringify(buildRelayPod(spec, { ...opts, storageSecretName: undefined }))]) {
      for (const secret of Object.values(SECRET_VALUES)) expect(podJson).not.toContain(secret);
    }
  });

  it('probes /healthz on the named metrics port and exposes it', () => {
    expect(container.ports).toEqual([{ name: 'http-metrics', containerPort: 9464, protocol: 'TCP' }]);
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
  });

  it('runs locked down: non-root, read-only root with an emptyDir work dir, no capabilities', () => {
    expect(pod.spec!.restartPolicy).toBe('Always');
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.volumeMounts).toEqual([{ name: 'work', mountPath: '/tmp' }]);
    expect(pod.spec!.volumes).toEqual([{ name: 'work', emptyDir: { sizeLimit: '1Gi' } }]);
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
  });

  it('applies resources, image, pull policy and service account options', () => {
    expect(container.resources).toEqual(DEFAULT_RELAY_RESOURCES);
    expect(container.image).toBe('ghcr.io/djcast/relay:1.2.3');
    expect(pod.spec!.serviceAccountName).toBeUndefined();
    const custom = buildRelayPod(spec, {
      ...opts,
      serviceAccountName: 'relay',
      imagePullPolicy: 'Always',
      resources: { requests: { cpu: '1', memory: '1Gi' } },
    });
    expect(custom.spec!.serviceAccountName).toBe('relay');
    expect(custom.spec!.containers[0]!.imagePullPolicy).toBe('Always');
    expect(custom.spec!.containers[0]!.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' } });
  });

  it('changes its spec hash when the Pod would change, not otherwise', () => {
    const hash = (p: typeof pod) => p.metadata!.annotations![ANNOTATION_SPEC_HASH];
    expect(hash(buildRelayPod(relaySpec(), opts))).toBe(hash(pod));
    expect(hash(buildRelayPod(relaySpec({ audio: 'copy' }), opts))).not.toBe(hash(pod));
    expect(hash(buildRelayPod(spec, { ...opts, image: 'other:1' }))).not.toBe(hash(pod));
  });
});

describe('buildRelaySecret', () => {
  const spec = relaySpec();
  it('holds the relay token and source credentials, labelled like the Pod', () => {
    const secret = buildRelaySecret(spec, {
      namespace: 'djcast',
      secretName: 'djcast-relay-secret',
      storageSecretName: 'djcast-storage',
    });
    expect(secret).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'djcast-relay-secret', namespace: 'djcast' },
    });
    expect(secret.metadata!.labels).toEqual(buildRelayPod(spec, opts).metadata!.labels);
    expect(secret.stringData).toEqual({
      DJCAST_RELAY_TOKEN: SECRET_VALUES.relayToken,
      DJCAST_SOURCE_USERNAME: SECRET_VALUES.sourceUsername,
      DJCAST_SOURCE_PASSWORD: SECRET_VALUES.sourcePassword,
    });
  });

  it('takes the storage credentials when no storage Secret is given, and the Pod reads them from it', () => {
    const secret = buildRelaySecret(spec, { namespace: 'djcast', secretName: 's' });
    expect(secret.stringData).toMatchObject({
      DJCAST_S3_ACCESS_KEY_ID: SECRET_VALUES.s3Key,
      DJCAST_S3_SECRET_ACCESS_KEY: SECRET_VALUES.s3Secret,
    });
    const pod = buildRelayPod(spec, { ...opts, secretName: 's', storageSecretName: undefined });
    const names = pod.spec!.containers[0]!.env!.filter((e) => e.valueFrom?.secretKeyRef?.name === 's').map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['DJCAST_S3_ACCESS_KEY_ID', 'DJCAST_S3_SECRET_ACCESS_KEY']));
    expect(pod.spec!.containers[0]!.envFrom).toBeUndefined();
  });

  it('leaves out source credentials the spec does not have', () => {
    const secret = buildRelaySecret(relaySpec({ sourceUsername: undefined, sourcePassword: undefined }), {
      namespace: 'n',
      secretName: 's',
      storageSecretName: 'x',
    });
    expect(Object.keys(secret.stringData!)).toEqual(['DJCAST_RELAY_TOKEN']);
  });
});
