/**
 * Everything a relay worker needs to run one live stream. The launcher turns
 * it into the worker's environment (see packages/relay/README.md for the
 * variable names) and starts it as a child process or a Kubernetes Pod.
 */
export interface RelaySpec {
  relayId: string;
  streamId: string;
  /** Full URL of the audio stream, mount included. */
  sourceUrl: string;
  sourceKind: 'icecast' | 'shoutcast1' | 'shoutcast2';
  /** The source server's stats endpoint (status-json.xsl, /7.html or /stats?sid=N&json=1). */
  statsUrl: string;
  sourceUsername?: string;
  sourcePassword?: string;
  /** Base URL of the API, for heartbeats. */
  apiUrl: string;
  /** Per-relay secret the worker presents on heartbeats. */
  relayToken: string;
  audio: 'aac' | 'copy';
  /** Paywall applied to this stream's playback; passed to the worker for its metadata. */
  paywall: { enabled: boolean; visibility: 'public' | 'private' };
  /** Environment for the worker's blob store (DJCAST_STORAGE*, DJCAST_S3_*). */
  storageEnv: Record<string, string>;
  /** Timing overrides (tests shorten these). */
  timing?: Partial<RelayTiming>;
  /** The worker's reads of the source may reach loopback and private addresses (DJCAST_ALLOW_PRIVATE_URLS). */
  allowPrivateUrls?: boolean;
}

export interface RelayTiming {
  heartbeatMs: number;
  offlineAfterMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  segmentSeconds: number;
}

export interface RelayInstance {
  relayId: string;
  streamId: string;
  running: boolean;
}

export interface RelayLauncher {
  readonly kind: 'process' | 'kubernetes';
  /** Starts the worker; resolves once it has been created, not once it is live. */
  start(spec: RelaySpec): Promise<void>;
  /** Stops and removes the worker; a missing worker is not an error. */
  stop(relayId: string): Promise<void>;
  /** Replaces a stuck worker with a fresh one (delete + create for Pods). */
  restart(spec: RelaySpec): Promise<void>;
  list(): Promise<RelayInstance[]>;
  /** Stops every worker this launcher started (process) or just releases clients (kubernetes). */
  close(): Promise<void>;
}

/** The worker's environment, shared by both launchers so they cannot drift apart. */
export function relayEnvironment(spec: RelaySpec): Record<string, string> {
  const t = spec.timing ?? {};
  const env: Record<string, string> = {
    DJCAST_RELAY_ID: spec.relayId,
    DJCAST_STREAM_ID: spec.streamId,
    DJCAST_SOURCE_URL: spec.sourceUrl,
    DJCAST_SOURCE_KIND: spec.sourceKind,
    DJCAST_STATS_URL: spec.statsUrl,
    DJCAST_API_URL: spec.apiUrl,
    DJCAST_RELAY_AUDIO: spec.audio,
    DJCAST_RELAY_PAYWALL: spec.paywall.enabled ? 'on' : 'off',
    DJCAST_RELAY_VISIBILITY: spec.paywall.visibility,
    ...spec.storageEnv,
  };
  if (spec.allowPrivateUrls) env.DJCAST_ALLOW_PRIVATE_URLS = 'true';
  if (t.heartbeatMs !== undefined) env.DJCAST_RELAY_HEARTBEAT_MS = String(t.heartbeatMs);
  if (t.offlineAfterMs !== undefined) env.DJCAST_RELAY_OFFLINE_AFTER_MS = String(t.offlineAfterMs);
  if (t.backoffInitialMs !== undefined) env.DJCAST_RELAY_BACKOFF_INITIAL_MS = String(t.backoffInitialMs);
  if (t.backoffMaxMs !== undefined) env.DJCAST_RELAY_BACKOFF_MAX_MS = String(t.backoffMaxMs);
  if (t.segmentSeconds !== undefined) env.DJCAST_RELAY_SEGMENT_SECONDS = String(t.segmentSeconds);
  return env;
}

/** Secrets go to the worker separately (a Secret in Kubernetes, the child's env locally). */
export function relaySecretEnvironment(spec: RelaySpec): Record<string, string> {
  const env: Record<string, string> = { DJCAST_RELAY_TOKEN: spec.relayToken };
  if (spec.sourceUsername) env.DJCAST_SOURCE_USERNAME = spec.sourceUsername;
  if (spec.sourcePassword) env.DJCAST_SOURCE_PASSWORD = spec.sourcePassword;
  return env;
}

/**
 * One log line from or about a relay worker: a JSON line the worker printed
 * (its pino output, `record` holds it), a plain line, or the launcher's own
 * event (started, exited, restarting, gave up). The server maps it onto its logger.
 */
export interface RelayLogEntry {
  relayId?: string;
  streamId?: string;
  source: 'stdout' | 'stderr' | 'launcher';
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  /** The parsed JSON line, or the launcher event's fields. */
  record?: Record<string, unknown>;
}

export type RelayLogger = (entry: RelayLogEntry) => void;
