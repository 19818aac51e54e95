// Production backend: one Pod (plus its Secret) per relay, through the Kubernetes API.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type V1Pod,
  type V1ResourceRequirements,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  ANNOTATION_RELAY_ID,
  ANNOTATION_SPEC_HASH,
  ANNOTATION_STREAM_ID,
  buildRelayPod,
  buildRelaySecret,
  LABEL_RELAY_ID,
  LABEL_STREAM_ID,
  RELAY_LABEL_SELECTOR,
  relayResourceName,
} from './pod-spec.js';
import type { RelayInstance, RelayLauncher, RelayLogger, RelaySpec } from './types.js';

/**
 * Every API call the launcher makes, by resource and verb. All calls go
 * through `call()`, which only accepts these pairs, and deploy/k8s/role.yaml
 * is tested to grant exactly these verbs.
 */
export const RELAY_KUBERNETES_PERMISSIONS = {
  pods: ['create', 'delete', 'get', 'list'],
  secrets: ['create', 'delete', 'get', 'update'],
} as const;
type Resource = keyof typeof RELAY_KUBERNETES_PERMISSIONS;
type Verb<R extends Resource> = (typeof RELAY_KUBERNETES_PERMISSIONS)[R][number];

export type KubernetesClusterOptions =
  /**
   * The Pod's service account (token and CA mounted by Kubernetes; the API
   * address comes from KUBERNETES_SERVICE_HOST/PORT, read by the client library).
   * `mountPrefix` is prepended to /var/run/secrets/... (tests only).
   */
  | { inCluster: true; mountPrefix?: string }
  /** A kubeconfig file, e.g. for a server running outside the cluster. */
  | { kubeconfigPath: string; context?: string };

export interface KubernetesRelayLauncherOptions {
  cluster: KubernetesClusterOptions;
  namespace: string;
  /** The relay image, e.g. ghcr.io/djcast/relay:1.2.3. */
  image: string;
  serviceAccountName?: string;
  resources?: V1ResourceRequirements;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Operator-provided Secret with DJCAST_S3_ACCESS_KEY_ID / DJCAST_S3_SECRET_ACCESS_KEY (envFrom). */
  storageSecretName?: string;
  /** Retries of API calls answered 429 or 5xx, or failing at the network level. */
  retry?: { attempts?: number; initialDelayMs?: number; maxDelayMs?: number };
  /** How long to wait for a deleted Pod to disappear before recreating it (default 90 s). */
  deleteTimeoutMs?: number;
  /** Poll interval while waiting for a Pod to disappear (default 500 ms). */
  pollIntervalMs?: number;
  logger?: RelayLogger;
}

export class KubernetesApiError extends Error {
  override readonly name = 'KubernetesApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
    /** The API's Status object (reason, details.causes) when it sent one. */
    readonly body: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof KubernetesApiError) return error.status;
  return error instanceof ApiException ? error.code : undefined;
}

function parseBody(error: unknown): unknown {
  if (!(error instanceof ApiException)) return undefined;
  if (typeof error.body !== 'string') return error.body;
  try {
    return JSON.parse(error.body);
  } catch {
    return error.body;
  }
}

function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return !(error instanceof ApiException); // network-level failure
  return status === 429 || status >= 500;
}

function decodeSecretData(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) out[key] = Buffer.from(value, 'base64').toString('utf8');
  return out;
}

function sameEntries(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

export class KubernetesRelayLauncher implements RelayLauncher {
  readonly kind = 'kubernetes' as const;
  private readonly api: CoreV1Api;
  private readonly namespace: string;
  private readonly attempts: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly deleteTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private closed = false;

  constructor(private readonly opts: KubernetesRelayLauncherOptions) {
    const kc = new KubeConfig();
    if ('inCluster' in opts.cluster) {
      kc.loadFromCluster(opts.cluster.mountPrefix);
    } else {
      kc.loadFromFile(opts.cluster.kubeconfigPath);
      if (opts.cluster.context) kc.setCurrentContext(opts.cluster.context);
    }
    this.api = kc.makeApiClient(CoreV1Api);
    this.namespace = opts.namespace;
    this.attempts = Math.max(1, opts.retry?.attempts ?? 5);
    this.initialDelayMs = opts.retry?.initialDelayMs ?? 250;
    this.maxDelayMs = opts.retry?.maxDelayMs ?? 5000;
    this.deleteTimeoutMs = opts.deleteTimeoutMs ?? 90_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
  }

  async start(spec: RelaySpec): Promise<void> {
    this.assertOpen();
    const name = relayResourceName(spec.relayId);
    const secretChanged = await this.applySecret(this.secretFor(spec, name));
    await this.applyPod(this.podFor(spec, name), secretChanged);
    this.log('info', 'relay pod started', spec, { pod: name });
  }

  async stop(relayId: string): Promise<void> {
    this.assertOpen();
    const name = relayResourceName(relayId);
    await this.ignoreNotFound(
      this.call('pods', 'delete', name, () => this.api.deleteNamespacedPod({ name, namespace: this.namespace })),
    );
    await this.ignoreNotFound(
      this.call('secrets', 'delete', name, () => this.api.deleteNamespacedSecret({ name, namespace: this.namespace })),
    );
    this.log('info', 'relay pod deleted', { relayId }, { pod: name });
  }

  async restart(spec: RelaySpec): Promise<void> {
    this.assertOpen();
    const name = relayResourceName(spec.relayId);
    await this.ignoreNotFound(
      this.call('pods', 'delete', name, () => this.api.deleteNamespacedPod({ name, namespace: this.namespace })),
    );
    await this.waitUntilGone(name);
    const secretChanged = await this.applySecret(this.secretFor(spec, name));
    await this.applyPod(this.podFor(spec, name), secretChanged);
    this.log('info', 'relay pod restarted', spec, { pod: name });
  }

  async list(): Promise<RelayInstance[]> {
    this.assertOpen();
    const pods = await this.call('pods', 'list', RELAY_LABEL_SELECTOR, () =>
      this.api.listNamespacedPod({ namespace: this.namespace, labelSelector: RELAY_LABEL_SELECTOR }),
    );
    return pods.items.map((pod) => {
      const { annotations = {}, labels = {} } = pod.metadata ?? {};
      return {
        relayId: annotations[ANNOTATION_RELAY_ID] ?? labels[LABEL_RELAY_ID] ?? pod.metadata?.name ?? '',
        streamId: annotations[ANNOTATION_STREAM_ID] ?? labels[LABEL_STREAM_ID] ?? '',
        running: pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp,
      };
    });
  }

  /** Nothing to tear down: the Pods keep running without the server; the client holds no watch. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private podFor(spec: RelaySpec, name: string): V1Pod {
    const { image, serviceAccountName, resources, imagePullPolicy, storageSecretName } = this.opts;
    return buildRelayPod(spec, {
      image,
      namespace: this.namespace,
      secretName: name,
      serviceAccountName,
      resources,
      imagePullPolicy,
      storageSecretName,
    });
  }

  private secretFor(spec: RelaySpec, name: string): V1Secret {
    return buildRelaySecret(spec, {
      namespace: this.namespace,
      secretName: name,
      storageSecretName: this.opts.storageSecretName,
    });
  }

  /** Creates the Secret, or brings an existing one up to date. Returns whether its content changed. */
  private async applySecret(secret: V1Secret): Promise<boolean> {
    const name = secret.metadata!.name!;
    const namespace = this.namespace;
    for (let round = 0; ; round++) {
      try {
        await this.call('secrets', 'create', name, () => this.api.createNamespacedSecret({ namespace, body: secret }));
        return false;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      let existing: V1Secret;
      try {
        existing = await this.call('secrets', 'get', name, () => this.api.readNamespacedSecret({ name, namespace }));
      } catch (error) {
        if (statusOf(error) === 404 && round < 3) continue; // deleted in between: create again
        throw error;
      }
      if (sameEntries(secret.stringData ?? {}, decodeSecretData(existing))) return false;
      const body: V1Secret = { ...secret, metadata: { ...secret.metadata, resourceVersion: existing.metadata?.resourceVersion } };
      try {
        await this.call('secrets', 'update', name, () => this.api.replaceNamespacedSecret({ name, namespace, body }));
        return true;
      } catch (error) {
        // 409: someone else updated it since our read; 404: deleted since. Read again.
        if ((statusOf(error) === 409 || statusOf(error) === 404) && round < 3) continue;
        throw error;
      }
    }
  }

  /**
   * Creates the Pod. An existing Pod with the same spec (and unchanged secrets)
   * is kept, so start() is idempotent; a stale or terminating one is replaced.
   */
  private async applyPod(pod: V1Pod, secretChanged: boolean): Promise<void> {
    const name = pod.metadata!.name!;
    const namespace = this.namespace;
    for (let round = 0; ; round++) {
      try {
        await this.call('pods', 'create', name, () => this.api.createNamespacedPod({ namespace, body: pod }));
        return;
      } catch (error) {
        if (statusOf(error) !== 409 || round >= 3) throw error;
      }
      let existing: V1Pod | undefined;
      try {
        existing = await this.call('pods', 'get', name, () => this.api.readNamespacedPod({ name, namespace }));
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        continue;
      }
      const terminating = Boolean(existing.metadata?.deletionTimestamp);
      const sameSpec =
        existing.metadata?.annotations?.[ANNOTATION_SPEC_HASH] === pod.metadata!.annotations![ANNOTATION_SPEC_HASH];
      if (!terminating && sameSpec && !secretChanged) return;
      if (!terminating) {
        this.log(
          'info',
          'replacing a stale relay pod',
          {},
          { pod: name, reason: secretChanged ? 'secret changed' : 'spec changed' },
        );
        await this.ignoreNotFound(this.call('pods', 'delete', name, () => this.api.deleteNamespacedPod({ name, namespace })));
      }
      await this.waitUntilGone(name);
    }
  }

  private async waitUntilGone(name: string): Promise<void> {
    const deadline = Date.now() + this.deleteTimeoutMs;
    for (;;) {
      try {
        await this.call('pods', 'get', name, () => this.api.readNamespacedPod({ name, namespace: this.namespace }));
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw error;
      }
      if (Date.now() >= deadline) {
        throw new KubernetesApiError(
          `Pod ${this.namespace}/${name} still exists ${this.deleteTimeoutMs} ms after its deletion`,
          undefined,
          undefined,
        );
      }
      await sleep(this.pollIntervalMs);
    }
  }

  private async ignoreNotFound(call: Promise<unknown>): Promise<void> {
    try {
      await call;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * Runs one API call, retrying 429, 5xx and network failures with capped
   * exponential backoff (Retry-After wins when the API sends one). API errors
   * come out as KubernetesApiError with the HTTP status and the Status body.
   */
  private async call<R extends Resource, T>(resource: R, verb: Verb<R>, target: string, op: () => Promise<T>): Promise<T> {
    const what = `${verb} ${resource} ${target}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (error) {
        const status = statusOf(error);
        if (!isRetryable(error)) {
          if (!(error instanceof ApiException)) throw error;
          const body = parseBody(error);
          const detail = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : '';
          throw new KubernetesApiError(`Kubernetes API: ${what} answered ${status}${detail ? `: ${detail}` : ''}`, status, body, {
            cause: error,
          });
        }
        if (attempt >= this.attempts) {
          throw new KubernetesApiError(
            `Kubernetes API: ${what} failed after ${attempt} attempts (${status ?? String(error)})`,
            status,
            parseBody(error),
            { cause: error },
          );
        }
        const retryAfter = error instanceof ApiException ? Number(error.headers?.['retry-after']) : NaN;
        const backoff = this.initialDelayMs * 2 ** (attempt - 1);
        const delayMs = Math.min(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff, this.maxDelayMs);
        this.log('warn', 'Kubernetes API call failed; retrying', {}, { resource, verb, target, status, attempt, delayMs });
        await sleep(delayMs);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('KubernetesRelayLauncher is closed');
  }

  private log(
    level: 'info' | 'warn',
    msg: string,
    about: { relayId?: string; streamId?: string },
    record: Record<string, unknown>,
  ): void {
    const entry = {
      source: 'launcher' as const,
      level,
      msg,
      record,
      ...(about.relayId && { relayId: about.relayId }),
      ...(about.streamId && { streamId: about.streamId }),
    };
    this.opts.logger?.(entry);
  }
}
