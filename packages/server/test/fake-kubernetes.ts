// A fake Kubernetes API server for the relay launcher's tests: real HTTPS on
// loopback, so @kubernetes/client-node runs its own code path from a kubeconfig
// (TLS verification against the CA, bearer token, serialization). It serves
// only what the launcher uses (pods and secrets in a namespace: create, get,
// list, update, delete), checks every request the way the API server would,
// validates every object against the Kubernetes schema (k8s-schema.ts) and
// answers mistakes with the API's Status objects. It records what it got.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeProblems, restrictedPodSecurityProblems, validateKubernetesObject } from './k8s-schema.js';

type Json = Record<string, unknown>;
export type FakeResource = 'pods' | 'secrets';
export type FakeVerb = 'create' | 'get' | 'list' | 'update' | 'delete' | 'patch' | 'watch' | 'deletecollection';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  resource?: FakeResource;
  verb?: FakeVerb;
  namespace?: string;
  name?: string;
  /** The parsed request body, when there was one. */
  body?: unknown;
  /** What the fake answered. */
  status: number;
  /** The Status reason for refusals (Invalid, AlreadyExists, NotFound, InternalError...). */
  reason?: string;
}

export interface InjectedFailure {
  status: number;
  /** Seconds, sent as Retry-After (429s). */
  retryAfterSeconds?: number;
  /** Which requests fail; default any. */
  match?: (request: { method: string; resource?: FakeResource; verb?: FakeVerb; name?: string }) => boolean;
  /** Apply the request first and fail only the response (a create that happened but looked failed). */
  afterCommit?: boolean;
}

export interface FakeKubernetesOptions {
  /** Bearer token the kubeconfig carries and the fake requires (default: random). */
  token?: string;
  /** How long a deleted Pod stays visible with a deletionTimestamp (default 0: gone at once). */
  podDeletionDelayMs?: number;
  /** Namespace written into the kubeconfig context (default "djcast"). */
  namespace?: string;
  /** Pod Security admission level of every namespace (default "restricted", as deploy/k8s/namespace.yaml sets). */
  podSecurity?: 'restricted' | 'privileged';
}

export interface FakeKubernetes {
  url: string;
  token: string;
  namespace: string;
  /** A kubeconfig file pointing at the fake (CA, token, context with namespace). */
  kubeconfigPath: string;
  requests: RecordedRequest[];
  /** Stored objects by "namespace/name", as the API would return them (secrets hold base64 `data`). */
  pods: Map<string, Json>;
  secrets: Map<string, Json>;
  /** Makes the next `count` matching requests fail with `failure.status`. */
  failNext(count: number, failure: InjectedFailure): void;
  /** resource -> verbs seen in successfully routed requests. */
  verbsUsed(): Record<FakeResource, Set<FakeVerb>>;
  close(): Promise<void>;
}

const KIND_OF: Record<FakeResource, string> = { pods: 'Pod', secrets: 'Secret' };
const JSON_TYPE = /^application\/json(\s*;.*)?$/i;

function status(code: number, reason: string, message: string, details?: Json): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    reason,
    code,
    ...(details && { details }),
  };
}

/** One self-signed certificate for 127.0.0.1, made with the openssl CLI (no network, no fixture files). */
function makeCertificate(dir: string): { cert: string; key: string } {
  const keyPath = path.join(dir, 'tls.key');
  const certPath = path.join(dir, 'tls.crt');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=fake-kubernetes',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(
      `fake-kubernetes needs the openssl CLI to make its TLS certificate (apt-get install openssl): ${String(error)}`,
    );
  }
  return { cert: certPath, key: keyPath };
}

export async function startFakeKubernetes(options: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const namespace = options.namespace ?? 'djcast';
  const podDeletionDelayMs = options.podDeletionDelayMs ?? 0;
  const podSecurity = options.podSecurity ?? 'restricted';
  const dir = await mkdtemp(path.join(tmpdir(), 'fake-kubernetes-'));
  const files = makeCertificate(dir);
  const cert = await readFile(files.cert);
  const key = await readFile(files.key);

  const requests: RecordedRequest[] = [];
  const stores: Record<FakeResource, Map<string, Json>> = { pods: new Map(), secrets: new Map() };
  const failures: Array<InjectedFailure & { remaining: number }> = [];
  const timers = new Set<NodeJS.Timeout>();
  let resourceVersion = 1000;
  const nextVersion = () => String(++resourceVersion);

  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, Buffer.concat(chunks), res);
      } catch (error) {
        send(res, undefined, 500, status(500, 'InternalError', `fake-kubernetes bug: ${String(error)}`));
      }
    });
  });

  function send(
    res: ServerResponse,
    record: RecordedRequest | undefined,
    code: number,
    body: Json,
    headers: Record<string, string> = {},
  ): void {
    if (record) {
      record.status = code;
      if (body.kind === 'Status' && typeof body.reason === 'string') record.reason = body.reason;
    }
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  function handle(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0 };
    requests.push(record);

    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(res, record, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const accept = req.headers.accept ?? '*/*';
    if (!/application\/json|\*\/\*/.test(accept))
      return send(res, record, 406, status(406, 'NotAcceptable', `unsupported Accept ${accept}`));

    const match = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match)
      return send(
        res,
        record,
        404,
        status(404, 'NotFound', `the server could not find the requested resource (${method} ${url.pathname})`),
      );
    const [, ns, resourceName, itemName] = match as unknown as [string, string, FakeResource, string | undefined];
    const resource = resourceName;
    const name = itemName === undefined ? undefined : decodeURIComponent(itemName);
    const verb = verbOf(method, name !== undefined);
    Object.assign(record, { resource, verb, namespace: ns, ...(name !== undefined && { name }) });
    if (!verb) return send(res, record, 405, status(405, 'MethodNotAllowed', `${method} is not supported on ${url.pathname}`));
    if (!IMPLEMENTED.has(verb)) {
      return send(
        res,
        record,
        405,
        status(
          405,
          'MethodNotAllowed',
          `fake-kubernetes does not implement ${verb} ${resource} (the launcher should not need it)`,
        ),
      );
    }

    let body: Json | undefined;
    if (method === 'POST' || method === 'PUT') {
      const contentType = req.headers['content-type'] ?? '';
      if (!JSON_TYPE.test(contentType)) {
        return send(
          res,
          record,
          415,
          status(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json (got ${JSON.stringify(contentType)})`,
          ),
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(res, record, 400, status(400, 'BadRequest', 'the request body is not valid JSON'));
      }
      record.body = parsed;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return send(res, record, 400, status(400, 'BadRequest', 'the request body must be a JSON object'));
      }
      body = parsed as Json;
    } else if (raw.length > 0) {
      // DELETE may carry DeleteOptions; anything else must be empty.
      try {
        record.body = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(res, record, 400, status(400, 'BadRequest', 'the request body is not valid JSON'));
      }
      if (method !== 'DELETE') return send(res, record, 400, status(400, 'BadRequest', `${method} takes no body`));
    }

    const failure = failures.find(
      (f) => f.remaining > 0 && (f.match?.({ method, resource, verb, ...(name !== undefined && { name }) }) ?? true),
    );
    const fail = () => {
      failure!.remaining -= 1;
      const headers: Record<string, string> =
        failure!.retryAfterSeconds !== undefined ? { 'retry-after': String(failure!.retryAfterSeconds) } : {};
      const reason = failure!.status === 429 ? 'TooManyRequests' : 'InternalError';
      send(res, record, failure!.status, status(failure!.status, reason, `injected failure (${failure!.status})`), headers);
    };
    if (failure && !failure.afterCommit) return fail();

    const store = stores[resource];
    const kind = KIND_OF[resource];
    const key = (n: string) => `${ns}/${n}`;
    const reply = (code: number, payload: Json) => (failure?.afterCommit ? fail() : send(res, record, code, payload));

    switch (verb) {
      case 'list': {
        const selector = url.searchParams.get('labelSelector');
        const items = [...store.entries()].filter(([k]) => k.startsWith(`${ns}/`)).map(([, v]) => v);
        const matching = selector ? items.filter((item) => matchesSelector(selector, labelsOf(item))) : items;
        return reply(200, {
          kind: `${kind}List`,
          apiVersion: 'v1',
          metadata: { resourceVersion: String(resourceVersion) },
          items: matching,
        });
      }
      case 'get': {
        const found = store.get(key(name!));
        return found ? reply(200, found) : send(res, record, 404, notFound(resource, name!));
      }
      case 'delete': {
        const found = store.get(key(name!));
        if (!found) return send(res, record, 404, notFound(resource, name!));
        if (resource === 'pods' && podDeletionDelayMs > 0) {
          const meta = found.metadata as Json;
          if (!meta.deletionTimestamp) {
            meta.deletionTimestamp = new Date().toISOString();
            meta.deletionGracePeriodSeconds = Math.ceil(podDeletionDelayMs / 1000);
            meta.resourceVersion = nextVersion();
            const timer = setTimeout(() => {
              timers.delete(timer);
              if (store.get(key(name!)) === found) store.delete(key(name!));
            }, podDeletionDelayMs);
            timers.add(timer);
          }
          return reply(200, found);
        }
        store.delete(key(name!));
        return reply(200, resource === 'pods' ? found : status(200, '', '', { name, kind: resource }));
      }
      case 'create':
      case 'update': {
        const object = body!;
        object.apiVersion ??= 'v1';
        object.kind ??= kind;
        if (object.apiVersion !== 'v1' || object.kind !== kind) {
          return send(
            res,
            record,
            400,
            status(
              400,
              'BadRequest',
              `the API version in the data (${String(object.apiVersion)}) and kind (${String(object.kind)}) do not match ${resource}`,
            ),
          );
        }
        const meta = (object.metadata ??= {}) as Json;
        if (meta.namespace !== undefined && meta.namespace !== ns) {
          return send(
            res,
            record,
            400,
            status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'),
          );
        }
        if (verb === 'update' && meta.name !== name) {
          return send(res, record, 400, status(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
        }
        const problems = validateKubernetesObject({ ...object, metadata: { ...meta, namespace: ns } });
        if (problems.length > 0) {
          const objectName = typeof meta.name === 'string' ? meta.name : '';
          return send(
            res,
            record,
            422,
            status(422, 'Invalid', `${kind} ${JSON.stringify(objectName)} is invalid: ${describeProblems(problems)}`, {
              name: objectName,
              kind: resource,
              causes: problems.map((p) => ({ reason: 'FieldValueInvalid', message: p.message, field: p.field })),
            }),
          );
        }
        if (resource === 'pods' && podSecurity === 'restricted') {
          const violations = restrictedPodSecurityProblems(object.spec);
          if (violations.length > 0) {
            return send(
              res,
              record,
              403,
              status(
                403,
                'Forbidden',
                `pods ${JSON.stringify(meta.name)} is forbidden: violates PodSecurity "restricted:latest": ${describeProblems(violations)}`,
              ),
            );
          }
        }
        const objectKey = key(String(meta.name));
        const existing = store.get(objectKey);
        if (verb === 'create' && existing) {
          return send(
            res,
            record,
            409,
            status(409, 'AlreadyExists', `${resource} ${JSON.stringify(meta.name)} already exists`, {
              name: meta.name,
              kind: resource,
            }),
          );
        }
        if (verb === 'update') {
          if (!existing) return send(res, record, 404, notFound(resource, name!));
          const current = (existing.metadata as Json).resourceVersion;
          if (meta.resourceVersion !== undefined && meta.resourceVersion !== current) {
            return send(
              res,
              record,
              409,
              status(
                409,
                'Conflict',
                `Operation cannot be fulfilled on ${resource} ${JSON.stringify(name)}: the object has been modified`,
                { name, kind: resource },
              ),
            );
          }
          if (resource === 'pods')
            return send(
              res,
              record,
              422,
              status(422, 'Invalid', 'Pod updates may not change fields other than image and a few others'),
            );
        }
        const stored = persist(resource, object, ns, existing);
        store.set(objectKey, stored);
        return reply(verb === 'create' ? 201 : 200, stored);
      }
    }
  }

  function persist(resource: FakeResource, object: Json, ns: string, existing: Json | undefined): Json {
    const meta = object.metadata as Json;
    const previous = (existing?.metadata ?? {}) as Json;
    const stored: Json = structuredClone(object);
    stored.metadata = {
      ...meta,
      namespace: ns,
      uid: previous.uid ?? randomUUID(),
      creationTimestamp: previous.creationTimestamp ?? new Date().toISOString(),
      resourceVersion: nextVersion(),
    };
    if (resource === 'secrets') {
      // Like the API server: stringData is merged into base64 data and never returned.
      const data: Record<string, string> = { ...((object.data as Record<string, string> | undefined) ?? {}) };
      for (const [k, v] of Object.entries((object.stringData as Record<string, string> | undefined) ?? {}))
        data[k] = Buffer.from(v).toString('base64');
      delete stored.stringData;
      stored.data = data;
      stored.type ??= 'Opaque';
    } else {
      stored.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    }
    return stored;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = path.join(dir, 'kubeconfig.yaml');
  await writeFile(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: fake',
      `    cluster: { server: "${url}", certificate-authority-data: "${cert.toString('base64')}" }`,
      'users:',
      `  - name: djcast-server`,
      `    user: { token: "${token}" }`,
      'contexts:',
      `  - name: fake`,
      `    context: { cluster: fake, user: djcast-server, namespace: ${namespace} }`,
      'current-context: fake',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  return {
    url,
    token,
    namespace,
    kubeconfigPath,
    requests,
    pods: stores.pods,
    secrets: stores.secrets,
    failNext(count, failure) {
      failures.push({ ...failure, remaining: count });
    },
    verbsUsed() {
      const used: Record<FakeResource, Set<FakeVerb>> = { pods: new Set(), secrets: new Set() };
      for (const r of requests) if (r.resource && r.verb && r.status !== 401 && r.status !== 405) used[r.resource].add(r.verb);
      return used;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const IMPLEMENTED = new Set<FakeVerb>(['create', 'get', 'list', 'update', 'delete']);
const ITEM_VERBS: Record<string, FakeVerb> = { GET: 'get', PUT: 'update', DELETE: 'delete', PATCH: 'patch' };
const COLLECTION_VERBS: Record<string, FakeVerb> = { GET: 'list', POST: 'create', DELETE: 'deletecollection' };

function verbOf(method: string, hasName: boolean): FakeVerb | undefined {
  const verb = (hasName ? ITEM_VERBS : COLLECTION_VERBS)[method];
  return verb;
}

function notFound(resource: FakeResource, name: string): Json {
  return status(404, 'NotFound', `${resource} ${JSON.stringify(name)} not found`, { name, kind: resource });
}

function labelsOf(item: Json): Record<string, string> {
  return ((item.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>;
}

/** Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated. */
export function matchesSelector(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .every((term) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(term);
      if (ne) return labels[ne[1]!.trim()] !== ne[2]!.trim();
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
}
