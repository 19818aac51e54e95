import { mkdir, mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import pino from 'pino';
import { nextBackoffDelay } from './backoff.js';
import type { BlobStore } from './blob/types.js';
import { describeRelayConfig, type RelayConfig } from './config.js';
import { buildHlsArgs, redactArgs } from './ffmpeg-args.js';
import { emptyInputInfo, type FfmpegInputInfo, foldInputInfo } from './ffmpeg-log.js';
import { CpuSampler } from './cpu.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { type HeartbeatBody, type HeartbeatReason, type HeartbeatResult, HeartbeatSender, type RelayState } from './heartbeat.js';
import { watchIcyTitles } from './icy-reader.js';
import {
  liveStreamKeys,
  PLAYLIST_CONTENT_TYPE,
  playlistCacheControl,
  SEGMENT_CACHE_CONTROL,
  SEGMENT_CONTENT_TYPE,
} from './keys.js';
import {
  appendSegment,
  createLiveState,
  currentWindow,
  type LivePlaylistOptions,
  type LivePlaylistState,
  msnFromUri,
  renderLivePlaylist,
  resumeLiveState,
  takeExpired,
} from './live-playlist.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { STATS_USER_AGENT } from './probe.js';
import { type LocalSegment, SegmentWatcher } from './segment-watcher.js';
import { fetchSourceText, type LookupFunction } from './source-http.js';
import { parseSourceStats } from './stats.js';

export const RELAY_USER_AGENT = 'djcast-relay/0.1';

export interface RelayWorkerDeps {
  blobStore: BlobStore;
  /** For heartbeats (default: global fetch). */
  fetch?: typeof globalThis.fetch;
  /** Wall clock for timestamps and durations (default Date.now); timers stay real. */
  clock?: { now(): number };
  /** Where JSON log lines go (default stdout). */
  logStream?: pino.DestinationStream;
  /** Name resolution for the relay's own connections to the source (stats, ICY). */
  lookup?: LookupFunction;
  /** Jitter source for the backoff (default Math.random). */
  random?: () => number;
  /** Source stats poll period (default 10 s). */
  statsIntervalMs?: number;
  /** CPU sample period (default 5 s). */
  cpuSampleIntervalMs?: number;
  /** Called after the worker stopped itself because of a bug (main exits non-zero so the launcher restarts it). */
  onFatal?(err: Error): void;
}

/** What /healthz answers. */
export interface RelayStatus {
  status: 'ok';
  state: RelayState;
  relay_id: string;
  stream_id: string;
  media_sequence: number;
  segment_lag_seconds: number;
  listener_count: number;
  current_track: string | null;
  bitrate_kbps: number | null;
  content_type: string | null;
  source_kind: string;
  cpu_usage: number;
  paywall: boolean;
  visibility: 'public' | 'private';
  uptime_seconds: number;
}

export interface RelayWorker {
  /** Starts the health server, heartbeats and the relay loop; resolves once they are running. */
  start(): Promise<void>;
  /** Stops FFmpeg, sends a final heartbeat, closes the health server. Idempotent. */
  stop(): Promise<void>;
  status(): RelayStatus;
  /** Port of /healthz and /metrics once started (null if it could not listen). */
  readonly port: number | null;
  readonly metrics: RelayMetrics;
}

interface Run {
  index: number;
  dir: string;
  published: number;
  /** Next published segment must carry a discontinuity (first of the run, or after a lost segment). */
  discontinuityPending: boolean;
  startedAt: number;
  lastProgressAt: number;
  input: FfmpegInputInfo & { done?: boolean };
  stderrTail: string[];
  icyAbort: AbortController;
  child: ResultPromise | null;
  stalled: boolean;
}

const BLOB_RETRY_DELAYS_MS = [250, 1000, 3000];

export function createRelayWorker(config: RelayConfig, deps: RelayWorkerDeps): RelayWorker {
  return new Worker(config, deps);
}

class Worker implements RelayWorker {
  readonly metrics: RelayMetrics;
  private readonly log: pino.Logger;
  private readonly blob: BlobStore;
  private readonly now: () => number;
  private readonly keys: ReturnType<typeof liveStreamKeys>;
  private readonly liveOptions: LivePlaylistOptions;
  private readonly heartbeats: HeartbeatSender;
  private readonly cpuSampler = new CpuSampler();
  private readonly stopController = new AbortController();

  private state: RelayState = 'starting';
  private live: LivePlaylistState;
  private mediaSequence = 0;
  private startedAt = 0;
  private lastSegmentAt: number | null = null;
  private failingSince: number | null = null;
  private listeners = 0;
  private cpu = 0;
  private statsBitrate: number | null = null;
  private statsContentType: string | null = null;
  private statsTitle: string | null = null;
  private statsFailing = false;
  private icyTitle: string | null = null;
  private icyTitleSeen = false;
  private icyConnected = false;
  private icyInfo: { contentType: string | null; bitrateKbps: number | null } = { contentType: null, bitrateKbps: null };
  private lastTrack: string | null = null;
  private inputInfo: FfmpegInputInfo = emptyInputInfo();

  private run: Run | null = null;
  private health: HealthServer | null = null;
  private workDir: string | null = null;
  private ownsWorkDir = false;
  private timers: NodeJS.Timeout[] = [];
  private offlineTimer: NodeJS.Timeout | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private started = false;
  private stopping = false;
  private stopPromise: Promise<void> | null = null;
  private statsInFlight = false;

  constructor(
    private readonly config: RelayConfig,
    private readonly deps: RelayWorkerDeps,
  ) {
    this.blob = deps.blobStore;
    this.now = deps.clock ? () => deps.clock!.now() : Date.now;
    this.keys = liveStreamKeys(config.streamId);
    this.liveOptions = { minSegments: config.window, segmentSeconds: config.segmentSeconds };
    this.live = createLiveState(this.liveOptions);
    this.metrics = createRelayMetrics(config.streamId);
    this.log = pino(
      {
        level: config.logLevel,
        base: { relay_worker_id: config.relayId, stream_id: config.streamId },
        mixin: () => ({ listener_count: this.listeners }),
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // Belt and braces: nothing logs these, and if something ever does, they are masked.
        redact: { paths: ['password', 'token', '*.password', '*.token', 'headers.authorization', 'headers.Authorization'], censor: '[redacted]' },
      },
      deps.logStream ?? pino.destination({ dest: 1, sync: false }),
    );
    this.heartbeats = new HeartbeatSender({
      apiUrl: config.api.url,
      relayId: config.relayId,
      token: config.api.token,
      fetch: deps.fetch ?? globalThis.fetch,
      timeoutMs: Math.min(10_000, Math.max(1000, config.heartbeatMs)),
      onResult: (result) => this.onHeartbeatResult(result),
    });
  }

  get port(): number | null {
    return this.health?.port ?? null;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.startedAt = this.now();
    if (this.config.workDir) {
      this.workDir = this.config.workDir;
      await mkdir(this.workDir, { recursive: true });
    } else {
      this.workDir = await mkdtemp(path.join(tmpdir(), `djcast-relay-${this.config.streamId}-`));
      this.ownsWorkDir = true;
    }
    try {
      this.health = await startHealthServer({
        host: this.config.http.host,
        port: this.config.http.port,
        status: () => this.status(),
        metrics: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
      });
    } catch (err) {
      // Relaying matters more than metrics: keep going, loudly.
      this.log.error({ event: 'health.listen_failed', port: this.config.http.port, err: (err as Error).message }, 'cannot serve /healthz and /metrics');
    }
    this.log.info({ event: 'relay.started', config: describeRelayConfig(this.config), health_port: this.port }, 'relay worker started');
    this.sendHeartbeat('state');
    this.every(this.config.heartbeatMs, () => this.sendHeartbeat('tick'));
    this.every(this.deps.cpuSampleIntervalMs ?? 5000, () => this.sampleCpu());
    this.every(this.deps.statsIntervalMs ?? 10_000, () => void this.pollStats());
    void this.pollStats();
    this.loopDone = this.loop().catch((err: Error) => {
      this.log.fatal({ event: 'relay.crashed', err: err.message, stack: err.stack }, 'relay loop crashed');
      void this.stop().then(() => this.deps.onFatal?.(err));
    });
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  status(): RelayStatus {
    return {
      status: 'ok',
      state: this.state,
      relay_id: this.config.relayId,
      stream_id: this.config.streamId,
      media_sequence: this.mediaSequence,
      segment_lag_seconds: this.segmentLagSeconds(),
      listener_count: this.listeners,
      current_track: this.currentTrack(),
      bitrate_kbps: this.bitrateKbps(),
      content_type: this.contentType(),
      source_kind: this.config.source.kind,
      cpu_usage: this.cpu,
      paywall: this.config.paywall.enabled,
      visibility: this.config.paywall.visibility,
      uptime_seconds: Math.round((this.now() - this.startedAt) / 1000),
    };
  }

  // --- the relay loop -------------------------------------------------------

  private async loop(): Promise<void> {
    await this.resume();
    let attempt = 0;
    for (let index = 0; !this.stopping; index++) {
      let published = 0;
      let failure = '';
      try {
        ({ published, failure } = await this.runFfmpeg(index));
      } catch (err) {
        failure = (err as Error).message;
        this.log.error({ event: 'ffmpeg.failed', err: failure }, 'could not run ffmpeg');
      }
      if (this.stopping) break;
      const now = this.now();
      this.metrics.sourceRestarts.inc(this.metrics.labels);
      // A run that never got the stream live (say, one segment and gone, over
      // and over) does not reset the clock towards offline.
      if (published > 0 && this.state === 'live') {
        attempt = 0;
        this.failingSince = now;
        this.log.warn({ event: 'source.lost', run: index, segments: published, reason: failure }, 'source dropped; reconnecting');
      } else {
        this.failingSince ??= now;
        this.log.warn({ event: 'source.failed', run: index, attempt, reason: failure }, 'could not pull the source');
      }
      const offline = now - this.failingSince >= this.config.offlineAfterMs;
      this.setState(offline ? 'offline' : 'reconnecting');
      if (!offline) this.armOfflineTimer();
      const wait = offline
        ? this.config.backoff.maxMs
        : nextBackoffDelay(attempt++, { ...this.config.backoff, ...(this.deps.random ? { random: this.deps.random } : {}) });
      this.log.debug({ event: 'source.retry_scheduled', delay_ms: wait, attempt }, 'retrying the source');
      await delay(wait, undefined, { signal: this.stopController.signal }).catch(() => {});
    }
  }

  /** Picks up the media sequence where an earlier worker left off; retried until storage answers. */
  private async resume(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        const keys = await this.blob.list(this.keys.prefix);
        const msns = keys.map((k) => msnFromUri(k)).filter((n): n is number => n !== null);
        const existing = await this.blob.get(this.keys.playlist);
        const text = existing ? await streamText(existing.body) : null;
        this.live = resumeLiveState(text, msns, this.now(), this.liveOptions);
        this.mediaSequence = currentWindow(this.live)?.mediaSequence ?? 0;
        if (text !== null || msns.length > 0) {
          this.log.info(
            { event: 'relay.resumed', next_msn: this.live.nextMsn, media_sequence: this.mediaSequence, stored_segments: msns.length },
            'continuing the media sequence of an earlier worker',
          );
        }
        return;
      } catch (err) {
        const wait = nextBackoffDelay(attempt, this.config.backoff);
        this.log.error({ event: 'storage.unavailable', err: (err as Error).message, retry_in_ms: wait }, 'cannot read the live playlist from storage');
        await delay(wait, undefined, { signal: this.stopController.signal }).catch(() => {});
      }
    }
  }

  /** One FFmpeg process, from spawn to exit, with its segments published. */
  private async runFfmpeg(index: number): Promise<{ published: number; failure: string }> {
    const dir = path.join(this.workDir!, `run-${index}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const args = buildHlsArgs({
      sourceUrl: this.config.source.url,
      ...(this.config.source.username !== undefined ? { username: this.config.source.username } : {}),
      ...(this.config.source.password !== undefined ? { password: this.config.source.password } : {}),
      audio: this.config.audio,
      segmentSeconds: this.config.segmentSeconds,
      outputDir: dir,
      userAgent: RELAY_USER_AGENT,
    });
    const now = this.now();
    const run: Run = {
      index,
      dir,
      published: 0,
      discontinuityPending: true,
      startedAt: now,
      lastProgressAt: now,
      input: emptyInputInfo(),
      stderrTail: [],
      icyAbort: new AbortController(),
      child: null,
      stalled: false,
    };
    this.run = run;
    this.log.debug({ event: 'ffmpeg.started', run: index, args: redactArgs(args).join(' ') }, 'starting ffmpeg');

    const child = execa(this.config.ffmpegPath, args, {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
      forceKillAfterDelay: 3000,
    });
    run.child = child;
    let partial = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.onFfmpegLine(run, line);
    });

    const watcher = new SegmentWatcher(
      dir,
      (segment) => this.publishSegment(run, segment),
      (err) => this.log.error({ event: 'segment.watch_failed', run: index, err: err.message, stack: err.stack }, 'publishing a segment failed'),
    );
    watcher.start();
    const icy = this.watchTitles(run);
    // A source that connects but sends nothing never makes FFmpeg exit on its own fast enough.
    const stallMs = this.config.segmentSeconds * 3000 + 10_000;
    const firstSegmentMs = stallMs + 10_000;
    const watchdog = setInterval(() => {
      const limit = run.published === 0 ? firstSegmentMs : stallMs;
      if (this.now() - run.lastProgressAt > limit && !run.stalled) {
        run.stalled = true;
        this.log.warn({ event: 'source.stalled', run: index, silent_ms: this.now() - run.lastProgressAt }, 'no segment from ffmpeg; restarting it');
        child.kill('SIGTERM');
      }
    }, 1000);

    const result = await child;
    clearInterval(watchdog);
    if (partial) this.onFfmpegLine(run, partial);
    await watcher.stop();
    await watcher.scan(true); // FFmpeg writes its last (short) segment on the way out
    run.icyAbort.abort();
    await icy;
    // The title belonged to that connection; until the next one says otherwise the stats page decides.
    this.icyTitleSeen = false;
    this.icyTitle = null;
    this.noteTrack();
    this.run = null;
    await rm(dir, { recursive: true, force: true }).catch(() => {});

    const failure = run.stalled
      ? 'no audio from the source'
      : result.failed && 'code' in result && (result as { code?: string }).code === 'ENOENT'
        ? `ffmpeg not found at ${this.config.ffmpegPath}`
        : lastMeaningfulLine(run.stderrTail) ?? `ffmpeg exited with ${result.exitCode ?? result.signal}`;
    const level = this.stopping ? 'info' : 'warn';
    this.log[level](
      {
        event: 'ffmpeg.exited',
        run: index,
        exit_code: result.exitCode ?? null,
        signal: result.signal ?? null,
        segments: run.published,
        stderr_tail: run.stderrTail.slice(-5),
      },
      'ffmpeg exited',
    );
    return { published: run.published, failure };
  }

  private onFfmpegLine(run: Run, line: string): void {
    if (!line.trim()) return;
    if (/^\[hls @ [^\]]+\] Opening /.test(line)) return; // one per segment and playlist write: noise
    run.stderrTail.push(line);
    if (run.stderrTail.length > 20) run.stderrTail.shift();
    const before = run.input;
    run.input = foldInputInfo(run.input, line);
    if (run.input !== before && run.input.codec && !before.codec) {
      const { done: _done, ...info } = run.input;
      this.inputInfo = info;
      this.log.info({ event: 'source.opened', run: run.index, codec: info.codec, bitrate_kbps: info.bitrateKbps, sample_rate: info.sampleRate }, 'ffmpeg opened the source');
    }
  }

  /** Uploads one finished segment, then the playlist that names it. */
  private async publishSegment(run: Run, local: LocalSegment & { file: string; skippedBefore: number }): Promise<void> {
    const started = performance.now();
    if (local.skippedBefore > 0) {
      run.discontinuityPending = true;
      this.log.warn({ event: 'segment.skipped', run: run.index, count: local.skippedBefore }, 'segments dropped off ffmpeg\'s list before they could be published');
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(local.file);
    } catch (err) {
      run.discontinuityPending = true;
      this.log.error({ event: 'segment.read_failed', run: run.index, file: local.uri, err: (err as Error).message }, 'cannot read segment');
      return;
    }
    const msn = this.live.nextMsn;
    try {
      await this.withRetry(() =>
        this.blob.put(this.keys.segment(msn), bytes, { contentType: SEGMENT_CONTENT_TYPE, cacheControl: SEGMENT_CACHE_CONTROL }),
      );
    } catch (err) {
      run.discontinuityPending = true;
      this.log.error({ event: 'segment.upload_failed', msn, err: (err as Error).message }, 'segment upload failed; skipping it');
      await unlink(local.file).catch(() => {});
      return;
    }

    const now = this.now();
    const result = appendSegment(this.live, { duration: local.duration, discontinuity: run.discontinuityPending }, now, this.liveOptions);
    this.live = result.state;
    run.discontinuityPending = false;
    run.published += 1;
    run.lastProgressAt = now;
    this.lastSegmentAt = now;
    if (run.published === 1) {
      this.log.info({ event: 'source.connected', run: run.index, codec: this.inputInfo.codec }, 'receiving audio from the source');
    }

    let playlistPublished = false;
    if (result.window) {
      try {
        await this.withRetry(() =>
          this.blob.put(this.keys.playlist, renderLivePlaylist(result.window!), {
            contentType: PLAYLIST_CONTENT_TYPE,
            cacheControl: playlistCacheControl(this.config.segmentSeconds),
          }),
        );
        playlistPublished = true;
        this.mediaSequence = result.window.mediaSequence;
      } catch (err) {
        this.log.error({ event: 'playlist.upload_failed', msn, err: (err as Error).message }, 'playlist upload failed; the next segment retries it');
      }
    }
    const seconds = (performance.now() - started) / 1000;
    this.metrics.segmentGenerationSeconds.observe(this.metrics.labels, seconds);
    this.metrics.segmentsPublished.inc(this.metrics.labels);
    this.log.info(
      {
        event: 'segment.published',
        msn,
        duration: local.duration,
        discontinuity: result.segment.discontinuity,
        media_sequence: this.mediaSequence,
        playlist_segments: result.window?.segments.length ?? 0,
        publish_seconds: Math.round(seconds * 1000) / 1000,
      },
      playlistPublished ? 'segment published' : 'segment uploaded; playlist not yet published',
    );
    await unlink(local.file).catch(() => {});
    if (playlistPublished && this.state !== 'live' && !this.stopping) {
      this.failingSince = null;
      this.clearOfflineTimer();
      this.setState('live');
    }
    await this.deleteExpired();
  }

  private async deleteExpired(): Promise<void> {
    const { state, expired } = takeExpired(this.live, this.now());
    this.live = state;
    for (const segment of expired) {
      try {
        await this.blob.delete(this.keys.segment(segment.msn));
        this.log.debug({ event: 'segment.deleted', msn: segment.msn }, 'segment past its grace period deleted');
      } catch (err) {
        // Left for the next worker's resume to retire again.
        this.log.warn({ event: 'segment.delete_failed', msn: segment.msn, err: (err as Error).message }, 'could not delete an old segment');
      }
    }
  }

  /** Reads ICY titles on a second connection while this FFmpeg run lasts. */
  private async watchTitles(run: Run): Promise<void> {
    const signal = run.icyAbort.signal;
    while (!signal.aborted) {
      try {
        const end = await watchIcyTitles(this.config.source.url, {
          ...(this.config.source.username !== undefined ? { username: this.config.source.username } : {}),
          ...(this.config.source.password !== undefined ? { password: this.config.source.password } : {}),
          userAgent: RELAY_USER_AGENT,
          ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
          allowPrivate: this.config.allowPrivateUrls ?? false,
          signal,
          onConnected: (info) => {
            this.icyConnected = true;
            this.icyInfo = { contentType: info.contentType, bitrateKbps: info.bitrateKbps };
          },
          onTitle: (title) => {
            this.icyTitleSeen = true;
            this.icyTitle = title;
            this.noteTrack();
          },
        });
        if (end === 'no-metadata') {
          this.log.debug({ event: 'icy.unavailable' }, 'source sends no ICY metadata; titles come from its stats page');
          return;
        }
      } catch (err) {
        if (!signal.aborted) this.log.debug({ event: 'icy.failed', err: (err as Error).message }, 'ICY metadata connection failed');
      } finally {
        this.icyConnected = false;
      }
      await delay(5000, undefined, { signal }).catch(() => {});
    }
  }

  private async pollStats(): Promise<void> {
    if (this.statsInFlight || this.stopping) return;
    this.statsInFlight = true;
    try {
      const { status, text } = await fetchSourceText(new URL(this.config.source.statsUrl), {
        headers: { 'User-Agent': STATS_USER_AGENT },
        timeoutMs: 5000,
        maxBytes: 512 * 1024,
        ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
        allowPrivate: this.config.allowPrivateUrls ?? false,
      });
      if (status !== 200) throw new Error(`stats page answered HTTP ${status}`);
      const stats = parseSourceStats(this.config.source.kind, text, this.config.source.url);
      // Icecast lists no mount while no source is connected: nobody is listening there.
      this.listeners = stats?.listeners ?? 0;
      this.statsBitrate = stats?.bitrateKbps ?? null;
      this.statsContentType = stats?.contentType ?? null;
      this.statsTitle = stats?.currentTrack ?? null;
      this.metrics.listenerCount.set(this.metrics.labels, this.listeners);
      if (this.statsFailing) this.log.info({ event: 'stats.recovered' }, 'source stats readable again');
      this.statsFailing = false;
      this.noteTrack();
    } catch (err) {
      if (!this.statsFailing) {
        this.log.warn({ event: 'stats.failed', url: this.config.source.statsUrl, err: (err as Error).message }, 'cannot read the source stats');
      }
      this.statsFailing = true;
    } finally {
      this.statsInFlight = false;
    }
  }

  // --- state, heartbeats, helpers -------------------------------------------

  private setState(next: RelayState, options: { heartbeat?: boolean } = {}): void {
    if (next === this.state) return;
    const from = this.state;
    this.state = next;
    this.log.info({ event: 'state.changed', from, to: next, media_sequence: this.mediaSequence }, `relay is ${next}`);
    if (options.heartbeat !== false) this.sendHeartbeat('state');
  }

  private armOfflineTimer(): void {
    this.clearOfflineTimer();
    if (this.failingSince === null) return;
    const due = Math.max(0, this.failingSince + this.config.offlineAfterMs - this.now());
    this.offlineTimer = setTimeout(() => {
      this.offlineTimer = null;
      if (!this.stopping && (this.state === 'reconnecting' || this.state === 'starting')) this.setState('offline');
    }, due);
  }

  private clearOfflineTimer(): void {
    if (this.offlineTimer) clearTimeout(this.offlineTimer);
    this.offlineTimer = null;
  }

  heartbeatBody(): HeartbeatBody {
    return {
      state: this.state,
      listener_count: this.listeners,
      // The source counts our own pulls among its listeners; the API subtracts them.
      relay_connections: (this.state === 'live' ? 1 : 0) + (this.icyConnected ? 1 : 0),
      cpu_usage: this.cpu,
      segment_lag_seconds: this.segmentLagSeconds(),
      current_track: this.currentTrack(),
      bitrate_kbps: this.bitrateKbps(),
      media_sequence: this.mediaSequence,
      source_kind: this.config.source.kind,
      content_type: this.contentType(),
    };
  }

  private sendHeartbeat(reason: HeartbeatReason): void {
    this.heartbeats.enqueue(this.heartbeatBody(), reason);
  }

  private onHeartbeatResult(result: HeartbeatResult): void {
    if (result.ok) {
      this.log.debug({ event: 'heartbeat.sent', state: result.body.state, reason: result.reason }, 'heartbeat sent');
    } else {
      this.log.warn(
        { event: 'heartbeat.failed', state: result.body.state, reason: result.reason, status: result.status ?? null, err: result.error },
        'heartbeat failed; retrying on the next tick',
      );
    }
  }

  private sampleCpu(): void {
    const pid = this.run?.child?.pid;
    this.cpu = this.cpuSampler.sample(pid);
    this.metrics.cpuUsagePercent.set(this.metrics.labels, this.cpu);
  }

  private segmentLagSeconds(): number {
    if (!this.started) return 0;
    return Math.round((this.now() - (this.lastSegmentAt ?? this.startedAt)) / 100) / 10;
  }

  private currentTrack(): string | null {
    return this.icyTitleSeen ? this.icyTitle : this.statsTitle;
  }

  private noteTrack(): void {
    const track = this.currentTrack();
    if (track !== this.lastTrack) {
      this.lastTrack = track;
      this.log.info({ event: 'track.changed', current_track: track }, 'now playing');
    }
  }

  private bitrateKbps(): number | null {
    return this.statsBitrate ?? this.icyInfo.bitrateKbps ?? this.inputInfo.bitrateKbps;
  }

  private contentType(): string | null {
    return this.statsContentType ?? this.icyInfo.contentType ?? this.inputInfo.contentType;
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    this.timers.push(timer);
  }

  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const wait = BLOB_RETRY_DELAYS_MS[i];
        if (wait === undefined || this.stopController.signal.aborted) throw err;
        await delay(wait);
      }
    }
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    if (!this.started) return;
    this.log.info({ event: 'relay.stopping', state: this.state }, 'stopping');
    this.stopController.abort();
    this.clearOfflineTimer();
    const run = this.run;
    run?.icyAbort.abort();
    run?.child?.kill('SIGTERM');
    // FFmpeg finishes its current segment on SIGTERM; publishing it is part of stopping cleanly.
    await Promise.race([this.loopDone, delay(15_000)]);
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.setState('offline', { heartbeat: false });
    this.sendHeartbeat('final');
    await this.heartbeats.drain(5000);
    await this.health?.close();
    if (this.ownsWorkDir && this.workDir) await rm(this.workDir, { recursive: true, force: true }).catch(() => {});
    this.log.info({ event: 'relay.stopped', media_sequence: this.mediaSequence }, 'stopped');
    await new Promise<void>((resolve) => this.log.flush(() => resolve()));
  }
}

function lastMeaningfulLine(lines: string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line && !/^(Exiting normally|video:|size=|\[aac @|\[mpegts @)/.test(line)) return line;
  }
  return null;
}

async function streamText(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
