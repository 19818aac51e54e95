// Pure builders for the Kubernetes objects of one relay. The launcher only sends them.
import { createHash } from 'node:crypto';
import type { V1Pod, V1ResourceRequirements, V1Secret } from '@kubernetes/client-node';
import { relayEnvironment, relaySecretEnvironment, type RelaySpec } from './types.js';

export const RELAY_APP_NAME = 'djcast-relay';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_STREAM_ID = 'djcast.io/stream-id';
export const LABEL_RELAY_ID = 'djcast.io/relay-id';
/** Exact ids live in annotations: label values are limited to 63 safe characters. */
export const ANNOTATION_RELAY_ID = 'djcast.io/relay-id';
export const ANNOTATION_STREAM_ID = 'djcast.io/stream-id';
/** Hash of everything the Pod is built from, so a start can tell "same Pod" from "stale Pod". */
export const ANNOTATION_SPEC_HASH = 'djcast.io/spec-hash';
export const RELAY_LABEL_SELECTOR = `${LABEL_NAME}=${RELAY_APP_NAME}`;

export const RELAY_CONTAINER_NAME = 'relay';
export const RELAY_METRICS_PORT = 9464;
export const RELAY_METRICS_PORT_NAME = 'http-metrics';
/** FFmpeg's working directory and os.tmpdir(): the only writable path in the container. */
export const RELAY_WORK_DIR = '/tmp';
/** The uid the relay image runs as (see deploy/docker/relay.Dockerfile). */
export const RELAY_UID = 10001;

/** Storage variables that are credentials: never inline in a Pod spec. */
export const STORAGE_CREDENTIAL_KEYS: readonly string[] = ['DJCAST_S3_ACCESS_KEY_ID', 'DJCAST_S3_SECRET_ACCESS_KEY'];

export const DEFAULT_RELAY_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '256Mi' },
};

export interface RelayPodOptions {
  image: string;
  namespace: string;
  /** The per-relay Secret (from buildRelaySecret) the token and source credentials are read from. */
  secretName: string;
  serviceAccountName?: string;
  resources?: V1ResourceRequirements;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * An operator-provided Secret holding DJCAST_S3_ACCESS_KEY_ID and
   * DJCAST_S3_SECRET_ACCESS_KEY, loaded with envFrom. Without it, credentials
   * found in spec.storageEnv go into the per-relay Secret instead.
   */
  storageSecretName?: string;
}

export interface RelaySecretOptions {
  namespace: string;
  secretName: string;
  /** Same meaning as in RelayPodOptions: when set, storage credentials stay out of the per-relay Secret. */
  storageSecretName?: string;
}

const DNS_LABEL_MAX = 63;
const NAME_PREFIX = 'djcast-relay-';
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function shortHash(value: string, length: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * The Pod (and Secret) name for a relay: a DNS-1123 label of at most 63
 * characters, readable (it keeps a sanitized form of the id) and unique (it
 * ends with a hash of the exact id, so ids differing only in case or
 * punctuation never share a name).
 */
export function relayResourceName(relayId: string): string {
  const hash = shortHash(relayId, 10);
  const room = DNS_LABEL_MAX - NAME_PREFIX.length - 1 - hash.length;
  const readable = relayId
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return `${NAME_PREFIX}${readable ? `${readable}-` : ''}${hash}`;
}

/** The id itself when it is a valid label value, else a sanitized, hashed stand-in. */
export function relayLabelValue(id: string): string {
  if (id.length <= DNS_LABEL_MAX && LABEL_VALUE.test(id)) return id;
  const hash = shortHash(id, 10);
  const readable = id
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, DNS_LABEL_MAX - hash.length - 1)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return readable ? `${readable}-${hash}` : hash;
}

export function relayLabels(spec: Pick<RelaySpec, 'relayId' | 'streamId'>): Record<string, string> {
  return {
    [LABEL_NAME]: RELAY_APP_NAME,
    [LABEL_COMPONENT]: 'relay',
    [LABEL_MANAGED_BY]: 'djcast-server',
    [LABEL_STREAM_ID]: relayLabelValue(spec.streamId),
    [LABEL_RELAY_ID]: relayLabelValue(spec.relayId),
  };
}

/** Split the worker environment into what may be written in a Pod spec and what must come from Secrets. */
function splitEnvironment(spec: RelaySpec, storageSecretName: string | undefined) {
  // The port the probes and Prometheus use; the relay reads it from DJCAST_RELAY_PORT.
  const inline: Record<string, string> = { DJCAST_RELAY_PORT: String(RELAY_METRICS_PORT) };
  const storageCredentials: Record<string, string> = {};
  for (const [name, value] of Object.entries(relayEnvironment(spec))) {
    if (STORAGE_CREDENTIAL_KEYS.includes(name)) storageCredentials[name] = value;
    else inline[name] = value;
  }
  const secret = { ...relaySecretEnvironment(spec), ...(storageSecretName ? {} : storageCredentials) };
  // A secret must never also travel inline, whatever storageEnv contained.
  for (const name of Object.keys(secret)) delete inline[name];
  return { inline, secret };
}

/** The per-relay Secret: relay token, source credentials, and storage credentials when no storage Secret is given. */
export function buildRelaySecret(spec: RelaySpec, opts: RelaySecretOptions): V1Secret {
  const { secret } = splitEnvironment(spec, opts.storageSecretName);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: opts.secretName,
      namespace: opts.namespace,
      labels: relayLabels(spec),
      annotations: { [ANNOTATION_RELAY_ID]: spec.relayId, [ANNOTATION_STREAM_ID]: spec.streamId },
    },
    type: 'Opaque',
    stringData: secret,
  };
}

export function buildRelayPod(spec: RelaySpec, opts: RelayPodOptions): V1Pod {
  const { inline, secret } = splitEnvironment(spec, opts.storageSecretName);
  const env = [
    ...Object.entries(inline)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    ...Object.keys(secret)
      .sort()
      .map((name) => ({ name, valueFrom: { secretKeyRef: { name: opts.secretName, key: name } } })),
  ];
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: '/healthz', port: RELAY_METRICS_PORT_NAME },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: relayResourceName(spec.relayId),
      namespace: opts.namespace,
      labels: relayLabels(spec),
      annotations: {
        [ANNOTATION_RELAY_ID]: spec.relayId,
        [ANNOTATION_STREAM_ID]: spec.streamId,
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(RELAY_METRICS_PORT),
        'prometheus.io/path': '/metrics',
      },
    },
    spec: {
      restartPolicy: 'Always',
      // The relay talks to the djcast API with its own token, never to Kubernetes.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RELAY_UID,
        runAsGroup: RELAY_UID,
        fsGroup: RELAY_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: RELAY_CONTAINER_NAME,
          image: opts.image,
          imagePullPolicy: opts.imagePullPolicy ?? 'IfNotPresent',
          env,
          ...(opts.storageSecretName ? { envFrom: [{ secretRef: { name: opts.storageSecretName } }] } : {}),
          ports: [{ name: RELAY_METRICS_PORT_NAME, containerPort: RELAY_METRICS_PORT, protocol: 'TCP' }],
          livenessProbe: { ...probe(10, 3), initialDelaySeconds: 10 },
          readinessProbe: probe(5, 2),
          resources: opts.resources ?? DEFAULT_RELAY_RESOURCES,
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [{ name: 'work', mountPath: RELAY_WORK_DIR }],
        },
      ],
      volumes: [{ name: 'work', emptyDir: { sizeLimit: '1Gi' } }],
    },
  };
  if (opts.serviceAccountName) pod.spec!.serviceAccountName = opts.serviceAccountName;
  // Secret values stay out of the hash: a weak source password could be guessed back from it.
  pod.metadata!.annotations![ANNOTATION_SPEC_HASH] = shortHash(JSON.stringify(pod), 16);
  return pod;
}
