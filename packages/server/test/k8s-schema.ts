// Validates Kubernetes objects the way the API server would refuse them, for
// the fake API server (fake-kubernetes.ts) and the deploy/k8s manifest tests.
// Three layers, all offline:
//  1. the OpenAPI schema of each kind (types, required fields, enums, quantity
//     and base64 formats), compiled into the kubernetes-models package;
//  2. unknown fields (what `fieldValidation=Strict` refuses), from the model
//     attribute maps shipped in @kubernetes/client-node;
//  3. the API server's own checks the schema cannot express (apimachinery
//     name rules, label syntax, references inside a Pod spec...), re-stated
//     here from the Kubernetes validation code for the kinds djcast uses.
import * as k8s from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

export interface FieldProblem {
  field: string;
  message: string;
}

type Json = Record<string, unknown>;
type ModelClass = new (data: never) => { validate(): void };

interface KindInfo {
  model: ModelClass;
  /** The @kubernetes/client-node model name, for unknown-field checks. */
  clientType: string;
  namespaced: boolean;
  semantic: (obj: Json, problems: FieldProblem[]) => void;
}

const KINDS: Record<string, KindInfo> = {
  'v1/Pod': { model: Pod as unknown as ModelClass, clientType: 'V1Pod', namespaced: true, semantic: (o, p) => checkPod(o, p) },
  'v1/Secret': {
    model: Secret as unknown as ModelClass,
    clientType: 'V1Secret',
    namespaced: true,
    semantic: (o, p) => checkSecret(o, p),
  },
  'v1/Namespace': {
    model: Namespace as unknown as ModelClass,
    clientType: 'V1Namespace',
    namespaced: false,
    semantic: (o, p) => checkName(o, p, 'label'),
  },
  'v1/Service': {
    model: Service as unknown as ModelClass,
    clientType: 'V1Service',
    namespaced: true,
    semantic: (o, p) => checkService(o, p),
  },
  'v1/ServiceAccount': {
    model: ServiceAccount as unknown as ModelClass,
    clientType: 'V1ServiceAccount',
    namespaced: true,
    semantic: (o, p) => checkName(o, p, 'subdomain'),
  },
  'apps/v1/Deployment': {
    model: Deployment as unknown as ModelClass,
    clientType: 'V1Deployment',
    namespaced: true,
    semantic: (o, p) => checkDeployment(o, p),
  },
  'rbac.authorization.k8s.io/v1/Role': {
    model: Role as unknown as ModelClass,
    clientType: 'V1Role',
    namespaced: true,
    semantic: (o, p) => checkRole(o, p),
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    model: RoleBinding as unknown as ModelClass,
    clientType: 'V1RoleBinding',
    namespaced: true,
    semantic: (o, p) => checkRoleBinding(o, p),
  },
};

export const SUPPORTED_KINDS = Object.keys(KINDS);

/** Every reason the API server would refuse `obj`; empty when it is valid. */
export function validateKubernetesObject(obj: unknown): FieldProblem[] {
  if (!isObject(obj)) return [{ field: '', message: 'must be a JSON object' }];
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const info = KINDS[key];
  if (!info) return [{ field: 'kind', message: `unsupported apiVersion/kind ${key} (supported: ${SUPPORTED_KINDS.join(', ')})` }];
  const problems: FieldProblem[] = [];
  try {
    new info.model(obj as never).validate();
  } catch (error) {
    const errors = (error as { errors?: Array<{ instancePath: string; message?: string; keyword: string }> }).errors;
    if (!errors) throw error;
    // oneOf/anyOf noise repeats the real messages (IntOrString, quantity): keep the specific ones.
    for (const e of errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf')) {
      problems.push({ field: pointerToField(e.instancePath), message: e.message ?? e.keyword });
    }
  }
  checkUnknownFields(obj, info.clientType, '', problems);
  const metadata = asObject(obj.metadata);
  if (!info.namespaced && metadata.namespace !== undefined)
    problems.push({ field: 'metadata.namespace', message: 'not allowed on a cluster-scoped kind' });
  if (metadata.namespace !== undefined) checkDns(problems, 'metadata.namespace', metadata.namespace, 'label');
  checkLabelsAndAnnotations(metadata, 'metadata', problems);
  info.semantic(obj, problems);
  return dedupe(problems);
}

export function describeProblems(problems: FieldProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}

// ---------------------------------------------------------------- unknown fields

const PRIMITIVES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString', 'RuntimeRawExtension']);

function checkUnknownFields(value: unknown, type: string, field: string, problems: FieldProblem[]): void {
  if (value === null || value === undefined || PRIMITIVES.has(type)) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => checkUnknownFields(item, array[1]!, `${field}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) checkUnknownFields(v, map[1]!, `${field}[${k}]`, problems);
    return;
  }
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Array<{ baseName: string; type: string }> }>)[
    type
  ];
  if (!model?.getAttributeTypeMap || !isObject(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const path = field ? `${field}.${k}` : k;
    const attributeType = attributes.get(k);
    if (attributeType === undefined) problems.push({ field: path, message: 'unknown field' });
    else checkUnknownFields(v, attributeType, path, problems);
  }
}

// ---------------------------------------------------------------- apimachinery rules

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

function checkDns(problems: FieldProblem[], field: string, value: unknown, kind: 'label' | 'subdomain' | '1035'): void {
  const s = typeof value === 'string' ? value : '';
  const ok =
    kind === 'subdomain'
      ? s.length <= 253 && DNS_SUBDOMAIN.test(s)
      : s.length <= 63 && (kind === 'label' ? DNS_LABEL : DNS_1035_LABEL).test(s);
  if (!ok) {
    const rule = { label: 'a lowercase RFC 1123 label', subdomain: 'a lowercase RFC 1123 subdomain', '1035': 'a DNS-1035 label' }[
      kind
    ];
    problems.push({ field, message: `Invalid value: ${JSON.stringify(value)}: must be ${rule}` });
  }
}

function checkName(obj: Json, problems: FieldProblem[], kind: 'label' | 'subdomain' | '1035'): void {
  const name = asObject(obj.metadata).name;
  if (name === undefined || name === '') problems.push({ field: 'metadata.name', message: 'Required value' });
  else checkDns(problems, 'metadata.name', name, kind);
}

function checkQualifiedName(problems: FieldProblem[], field: string, key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && !(prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) {
    problems.push({ field, message: `Invalid value: ${JSON.stringify(key)}: prefix must be a DNS-1123 subdomain` });
  }
  if (!(name.length <= 63 && QUALIFIED_NAME.test(name)))
    problems.push({ field, message: `Invalid value: ${JSON.stringify(key)}: name part must be a qualified name` });
}

function checkLabels(labels: unknown, field: string, problems: FieldProblem[]): void {
  for (const [key, value] of Object.entries(asObject(labels))) {
    checkQualifiedName(problems, `${field}[${key}]`, key);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      problems.push({
        field: `${field}[${key}]`,
        message: `Invalid value: ${JSON.stringify(value)}: a label value must be at most 63 characters of [-A-Za-z0-9_.], alphanumeric at both ends`,
      });
    }
  }
}

function checkLabelsAndAnnotations(metadata: Json, field: string, problems: FieldProblem[]): void {
  checkLabels(metadata.labels, `${field}.labels`, problems);
  const annotations = asObject(metadata.annotations);
  for (const key of Object.keys(annotations)) checkQualifiedName(problems, `${field}.annotations`, key);
  if (JSON.stringify(annotations).length > 256 * 1024)
    problems.push({ field: `${field}.annotations`, message: 'Too long: must have at most 262144 bytes' });
}

function checkPod(obj: Json, problems: FieldProblem[]): void {
  checkName(obj, problems, 'subdomain');
  checkPodSpec(asObject(obj.spec), 'spec', problems);
}

function checkPodSpec(spec: Json, field: string, problems: FieldProblem[]): void {
  const volumes = asArray(spec.volumes);
  const volumeNames = new Set<string>();
  volumes.forEach((volume, i) => {
    const v = asObject(volume);
    checkDns(problems, `${field}.volumes[${i}].name`, v.name, 'label');
    if (volumeNames.has(String(v.name)))
      problems.push({ field: `${field}.volumes[${i}].name`, message: `Duplicate value: ${JSON.stringify(v.name)}` });
    volumeNames.add(String(v.name));
    const sources = Object.keys(v).filter((k) => k !== 'name');
    if (sources.length !== 1)
      problems.push({ field: `${field}.volumes[${i}]`, message: 'must specify exactly one volume source' });
  });
  const containerNames = new Set<string>();
  const portNames = new Set<string>();
  const containers = asArray(spec.containers);
  if (containers.length === 0) problems.push({ field: `${field}.containers`, message: 'Required value' });
  for (const [list, group] of [
    [asArray(spec.initContainers), 'initContainers'],
    [containers, 'containers'],
  ] as const) {
    list.forEach((container, i) => {
      const c = asObject(container);
      const at = `${field}.${group}[${i}]`;
      checkDns(problems, `${at}.name`, c.name, 'label');
      if (containerNames.has(String(c.name)))
        problems.push({ field: `${at}.name`, message: `Duplicate value: ${JSON.stringify(c.name)}` });
      containerNames.add(String(c.name));
      if (typeof c.image !== 'string' || c.image.trim() === '')
        problems.push({ field: `${at}.image`, message: 'Required value' });
      checkContainer(c, at, volumeNames, portNames, problems);
    });
  }
  if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(String(spec.restartPolicy))) {
    problems.push({ field: `${field}.restartPolicy`, message: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}` });
  }
  const security = asObject(spec.securityContext);
  if (security.runAsNonRoot === true && security.runAsUser === 0) {
    problems.push({ field: `${field}.securityContext.runAsUser`, message: 'Invalid value: 0: runAsNonRoot forbids uid 0' });
  }
  if (spec.serviceAccountName !== undefined)
    checkDns(problems, `${field}.serviceAccountName`, spec.serviceAccountName, 'subdomain');
}

function checkContainer(
  c: Json,
  at: string,
  volumeNames: Set<string>,
  podPortNames: Set<string>,
  problems: FieldProblem[],
): void {
  const ownPorts = new Set<string>();
  asArray(c.ports).forEach((port, i) => {
    const p = asObject(port);
    checkPortNumber(problems, `${at}.ports[${i}].containerPort`, p.containerPort);
    if (p.name !== undefined) {
      checkPortName(problems, `${at}.ports[${i}].name`, p.name);
      if (podPortNames.has(String(p.name)))
        problems.push({ field: `${at}.ports[${i}].name`, message: `Duplicate value: ${JSON.stringify(p.name)}` });
      podPortNames.add(String(p.name));
      ownPorts.add(String(p.name));
    }
  });
  const envNames = new Set<string>();
  asArray(c.env).forEach((item, i) => {
    const e = asObject(item);
    const ef = `${at}.env[${i}]`;
    if (typeof e.name !== 'string' || !ENV_NAME.test(e.name))
      problems.push({
        field: `${ef}.name`,
        message: `Invalid value: ${JSON.stringify(e.name)}: must be a C identifier-like environment variable name`,
      });
    envNames.add(String(e.name));
    if (e.valueFrom !== undefined) {
      if (e.value !== undefined && e.value !== '')
        problems.push({ field: `${ef}.valueFrom`, message: 'may not be specified when `value` is not empty' });
      const from = asObject(e.valueFrom);
      const sources = Object.keys(from);
      if (sources.length !== 1) problems.push({ field: `${ef}.valueFrom`, message: 'must specify exactly one source' });
      for (const refName of ['secretKeyRef', 'configMapKeyRef'] as const) {
        if (from[refName] === undefined) continue;
        const ref = asObject(from[refName]);
        if (!ref.name) problems.push({ field: `${ef}.valueFrom.${refName}.name`, message: 'Required value' });
        else checkDns(problems, `${ef}.valueFrom.${refName}.name`, ref.name, 'subdomain');
        if (typeof ref.key !== 'string' || !SECRET_KEY.test(ref.key))
          problems.push({ field: `${ef}.valueFrom.${refName}.key`, message: `Invalid value: ${JSON.stringify(ref.key)}` });
      }
    }
  });
  asArray(c.envFrom).forEach((item, i) => {
    const e = asObject(item);
    const refs = ['secretRef', 'configMapRef'].filter((k) => e[k] !== undefined);
    if (refs.length !== 1)
      problems.push({ field: `${at}.envFrom[${i}]`, message: 'must specify exactly one of secretRef, configMapRef' });
    for (const ref of refs) {
      const name = asObject(e[ref]).name;
      if (!name) problems.push({ field: `${at}.envFrom[${i}].${ref}.name`, message: 'Required value' });
      else checkDns(problems, `${at}.envFrom[${i}].${ref}.name`, name, 'subdomain');
    }
  });
  const mountPaths = new Set<string>();
  asArray(c.volumeMounts).forEach((item, i) => {
    const m = asObject(item);
    if (!volumeNames.has(String(m.name)))
      problems.push({ field: `${at}.volumeMounts[${i}].name`, message: `Not found: ${JSON.stringify(m.name)}` });
    if (typeof m.mountPath !== 'string' || !m.mountPath.startsWith('/'))
      problems.push({ field: `${at}.volumeMounts[${i}].mountPath`, message: 'must be an absolute path' });
    if (mountPaths.has(String(m.mountPath)))
      problems.push({ field: `${at}.volumeMounts[${i}].mountPath`, message: 'must be unique' });
    mountPaths.add(String(m.mountPath));
  });
  for (const probeName of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (c[probeName] === undefined) continue;
    const probe = asObject(c[probeName]);
    const pf = `${at}.${probeName}`;
    const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((k) => probe[k] !== undefined);
    if (handlers.length !== 1) problems.push({ field: pf, message: 'must specify exactly one handler' });
    for (const handler of ['httpGet', 'tcpSocket']) {
      if (probe[handler] === undefined) continue;
      const port = asObject(probe[handler]).port;
      if (typeof port === 'string') {
        checkPortName(problems, `${pf}.${handler}.port`, port);
        // Stricter than the API server: the kubelet would fail this probe forever.
        if (!ownPorts.has(port))
          problems.push({
            field: `${pf}.${handler}.port`,
            message: `Not found: no container port named ${JSON.stringify(port)}`,
          });
      } else checkPortNumber(problems, `${pf}.${handler}.port`, port);
    }
    for (const n of ['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold']) {
      if (probe[n] !== undefined && !(Number(probe[n]) >= 1))
        problems.push({ field: `${pf}.${n}`, message: 'must be greater than or equal to 1' });
    }
  }
  const resources = asObject(c.resources);
  const limits = asObject(resources.limits);
  for (const [name, request] of Object.entries(asObject(resources.requests))) {
    if (limits[name] === undefined) continue;
    const r = parseQuantity(request);
    const l = parseQuantity(limits[name]);
    if (r !== undefined && l !== undefined && r > l) {
      problems.push({
        field: `${at}.resources.requests[${name}]`,
        message: `Invalid value: ${JSON.stringify(request)}: must be less than or equal to ${name} limit of ${String(limits[name])}`,
      });
    }
  }
}

function checkPortNumber(problems: FieldProblem[], field: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
    problems.push({ field, message: `Invalid value: ${JSON.stringify(value)}: must be between 1 and 65535, inclusive` });
  }
}

function checkPortName(problems: FieldProblem[], field: string, value: unknown): void {
  const s = typeof value === 'string' ? value : '';
  if (!(s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes('--'))) {
    problems.push({
      field,
      message: `Invalid value: ${JSON.stringify(value)}: must be an IANA_SVC_NAME (at most 15 characters, a-z0-9 and '-', at least one letter)`,
    });
  }
}

function checkSecret(obj: Json, problems: FieldProblem[]): void {
  checkName(obj, problems, 'subdomain');
  for (const field of ['data', 'stringData']) {
    for (const key of Object.keys(asObject(obj[field]))) {
      if (!(key.length <= 253 && SECRET_KEY.test(key)))
        problems.push({
          field: `${field}[${key}]`,
          message: `Invalid value: ${JSON.stringify(key)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
        });
    }
  }
}

function checkService(obj: Json, problems: FieldProblem[]): void {
  checkName(obj, problems, '1035');
  const spec = asObject(obj.spec);
  const ports = asArray(spec.ports);
  if (ports.length === 0 && spec.type !== 'ExternalName') problems.push({ field: 'spec.ports', message: 'Required value' });
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = asObject(port);
    checkPortNumber(problems, `spec.ports[${i}].port`, p.port);
    if (ports.length > 1 && !p.name) problems.push({ field: `spec.ports[${i}].name`, message: 'Required value' });
    if (p.name !== undefined) {
      checkDns(problems, `spec.ports[${i}].name`, p.name, 'label');
      if (names.has(String(p.name))) problems.push({ field: `spec.ports[${i}].name`, message: 'Duplicate value' });
      names.add(String(p.name));
    }
    if (typeof p.targetPort === 'string') checkPortName(problems, `spec.ports[${i}].targetPort`, p.targetPort);
    else if (p.targetPort !== undefined) checkPortNumber(problems, `spec.ports[${i}].targetPort`, p.targetPort);
  });
  checkLabels(spec.selector, 'spec.selector', problems);
}

function checkDeployment(obj: Json, problems: FieldProblem[]): void {
  checkName(obj, problems, 'subdomain');
  const spec = asObject(obj.spec);
  const template = asObject(spec.template);
  const templateLabels = asObject(asObject(template.metadata).labels);
  checkLabelsAndAnnotations(asObject(template.metadata), 'spec.template.metadata', problems);
  const matchLabels = asObject(asObject(spec.selector).matchLabels);
  if (Object.keys(matchLabels).length === 0 && asArray(asObject(spec.selector).matchExpressions).length === 0) {
    problems.push({ field: 'spec.selector', message: 'Invalid value: empty selector is invalid for deployment' });
  }
  checkLabels(matchLabels, 'spec.selector.matchLabels', problems);
  for (const [key, value] of Object.entries(matchLabels)) {
    if (templateLabels[key] !== value)
      problems.push({ field: 'spec.template.metadata.labels', message: '`selector` does not match template `labels`' });
  }
  const podSpec = asObject(template.spec);
  if (podSpec.restartPolicy !== undefined && podSpec.restartPolicy !== 'Always') {
    problems.push({
      field: 'spec.template.spec.restartPolicy',
      message: `Unsupported value: ${JSON.stringify(podSpec.restartPolicy)}: supported values: "Always"`,
    });
  }
  checkPodSpec(podSpec, 'spec.template.spec', problems);
  if (spec.replicas !== undefined && !(Number(spec.replicas) >= 0))
    problems.push({ field: 'spec.replicas', message: 'must be greater than or equal to 0' });
}

function checkRole(obj: Json, problems: FieldProblem[]): void {
  checkName(obj, problems, 'subdomain');
  asArray(obj.rules).forEach((rule, i) => {
    const r = asObject(rule);
    if (asArray(r.verbs).length === 0)
      problems.push({ field: `rules[${i}].verbs`, message: 'Required value: verbs must contain at least one value' });
    if (r.apiGroups === undefined)
      problems.push({
        field: `rules[${i}].apiGroups`,
        message: 'Required value: resource rules must supply at least one api group',
      });
    if (asArray(r.resources).length === 0)
      problems.push({
        field: `rules[${i}].resources`,
        message: 'Required value: resource rules must supply at least one resource',
      });
    if (r.nonResourceURLs !== undefined)
      problems.push({
        field: `rules[${i}].nonResourceURLs`,
        message: 'Roles are namespaced and may not specify nonResourceURLs',
      });
  });
}

function checkRoleBinding(obj: Json, problems: FieldProblem[]): void {
  checkName(obj, problems, 'subdomain');
  const roleRef = asObject(obj.roleRef);
  if (roleRef.apiGroup !== 'rbac.authorization.k8s.io')
    problems.push({ field: 'roleRef.apiGroup', message: `Unsupported value: ${JSON.stringify(roleRef.apiGroup)}` });
  if (roleRef.kind !== 'Role' && roleRef.kind !== 'ClusterRole')
    problems.push({ field: 'roleRef.kind', message: `Unsupported value: ${JSON.stringify(roleRef.kind)}` });
  if (!roleRef.name) problems.push({ field: 'roleRef.name', message: 'Required value' });
  asArray(obj.subjects).forEach((subject, i) => {
    const s = asObject(subject);
    if (!['ServiceAccount', 'User', 'Group'].includes(String(s.kind)))
      problems.push({ field: `subjects[${i}].kind`, message: `Unsupported value: ${JSON.stringify(s.kind)}` });
    if (s.kind === 'ServiceAccount') {
      checkDns(problems, `subjects[${i}].name`, s.name, 'subdomain');
      if (s.apiGroup !== undefined && s.apiGroup !== '')
        problems.push({ field: `subjects[${i}].apiGroup`, message: 'must be "" for a ServiceAccount' });
    }
  });
}

// ---------------------------------------------------------------- helpers

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity as a number ("500m" -> 0.5, "128Mi" -> 134217728). */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))([a-zA-Z]*)$/.exec(String(value));
  if (!match) return undefined;
  const factor = QUANTITY_SUFFIX[match[2]!];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

function pointerToField(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown): Json {
  return isObject(value) ? value : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

// ---------------------------------------------------------------- Pod Security Standards

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/**
 * Violations of the "restricted" Pod Security Standard, which
 * deploy/k8s/namespace.yaml enforces (the API server's PodSecurity admission
 * refuses such Pods with 403).
 */
export function restrictedPodSecurityProblems(podSpec: unknown, field = 'spec'): FieldProblem[] {
  const spec = asObject(podSpec);
  const problems: FieldProblem[] = [];
  const pod = asObject(spec.securityContext);
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[host] === true) problems.push({ field: `${field}.${host}`, message: 'host namespaces are forbidden' });
  }
  asArray(spec.volumes).forEach((volume, i) => {
    const type = Object.keys(asObject(volume)).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.has(type))
      problems.push({ field: `${field}.volumes[${i}]`, message: `volume type ${String(type)} is forbidden` });
  });
  const containers = [...asArray(spec.initContainers), ...asArray(spec.containers)];
  containers.forEach((container, i) => {
    const c = asObject(container);
    const sc = asObject(c.securityContext);
    const at = `${field}.containers(${String(c.name ?? i)}).securityContext`;
    if (sc.privileged === true) problems.push({ field: `${at}.privileged`, message: 'must be false' });
    if (sc.allowPrivilegeEscalation !== false)
      problems.push({ field: `${at}.allowPrivilegeEscalation`, message: 'must be false' });
    const caps = asObject(sc.capabilities);
    if (!asArray(caps.drop).includes('ALL')) problems.push({ field: `${at}.capabilities.drop`, message: 'must include ALL' });
    if (asArray(caps.add).some((cap) => cap !== 'NET_BIND_SERVICE'))
      problems.push({ field: `${at}.capabilities.add`, message: 'only NET_BIND_SERVICE may be added' });
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true)
      problems.push({ field: `${at}.runAsNonRoot`, message: 'must be true (in the Pod or the container)' });
    if ((sc.runAsUser ?? pod.runAsUser) === 0) problems.push({ field: `${at}.runAsUser`, message: 'must not be 0' });
    const seccomp = asObject(sc.seccompProfile ?? pod.seccompProfile).type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push({ field: `${at}.seccompProfile.type`, message: 'must be RuntimeDefault or Localhost' });
  });
  return problems;
}
