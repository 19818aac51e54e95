import pino from 'pino';
import type { BlobStore } from './blob/types.js';
import { describeRelayConfig, type RelayConfig } from './config.js';
import { CpuSampler } from './cpu.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import type { InputSwitchEvent } from './ad-break.js';
import { openAdFeed } from './ad-feed.js';
import type { LiveDateRange } from './live-playlist.js';
import {
  type AdBreakOrder,
  adUrlFor,
  type HeartbeatBody,
  type HeartbeatReason,
  type HeartbeatResult,
  HeartbeatSender,
  type RelayState,
} from './heartbeat.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import * as np from './now-playing.js';
import {
  initialRelayState,
  nextWakeAt,
  type RelayEffect,
  type RelayEvent,
  type RelayMachineOptions,
  type RelayMachineState,
  relayTransition,
} from './relay-machine.js';
import { RELAY_USER_AGENT } from './relay-listeners.js';
import { ArchiveRecorder } from './archive-recorder.js';
import { SegmentPublisher } from './segment-publisher.js';
import type { LookupFunction } from './source-http.js';
import { type AdBreakMark, type BreakTwin, type SourceRun, startSourceRun } from './source-run.js';
import { readSourceSnapshot } from './stats-poller.js';
import type { TsSegment } from './ts-segmenter.js';

export { RELAY_USER_AGENT } from './relay-listeners.js';

/** How many of the newest ad breaks taken each heartbeat reports (the API keeps them; this only covers a lost heartbeat). */
const AD_BREAKS_REPORTED = 20;

export interface RelayWorkerDeps {
  blobStore: BlobStore;
  /** For heartbeats (default: global fetch). */
  fetch?: typeof globalThis.fetch;
  /** Wall clock for timestamps, durations and the state machine (default Date.now). */
  clock?: { now(): number };
  /** Where JSON log lines go (default stdout). */
  logStream?: pino.DestinationStream;
  /** Name resolution for every connection to the source (audio, stats). */
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
  /** Starts the health server, heartbeats and the relay; resolves once they are running. */
  start(): Promise<void>;
  /** Stops FFmpeg, sends a final heartbeat, closes the health server. Idempotent. */
  stop(): Promise<void>;
  status(): RelayStatus;
  /** Port of /healthz and /metrics once started (null if it could not listen). */
  readonly port: number | null;
  /** FFmpeg's pid while a source run is in progress. */
  readonly ffmpegPid: number | null;
  readonly metrics: RelayMetrics;
}

export function createRelayWorker(config: RelayConfig, deps: RelayWorkerDeps): RelayWorker {
  return new Worker(config, deps);
}

/**
 * The shell around the pure parts: it feeds the state machine
 * (relay-machine.ts) with events and the clock and carries out its effects
 * (start or kill a source run, report a state change); source runs
 * (source-run.ts) deliver segments to the SegmentPublisher; now-playing and
 * listener counts come from the stats poller and the run's ICY metadata.
 */
class Worker implements RelayWorker {
  readonly metrics: RelayMetrics;
  private readonly log: pino.Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly machineOptions: RelayMachineOptions;
  private readonly heartbeats: HeartbeatSender;
  private readonly publisher: SegmentPublisher;
  private readonly archive: ArchiveRecorder;
  private readonly cpuSampler = new CpuSampler();
  private readonly stopController = new AbortController();

  private machine: RelayMachineState;
  private nowPlaying: np.NowPlaying = np.emptyNowPlaying;
  private lastTrack: string | null = null;
  private listeners = 0;
  private relayConnectionsSeen: number | null = null;
  private sourceConnected = false;
  private cpu = 0;
  private startedAt = 0;
  private lastSegmentAt: number | null = null;
  private statsFailing = false;
  private statsInFlight = false;

  private run: { index: number; source: SourceRun; done: Promise<void> } | null = null;
  private health: HealthServer | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private stopPromise: Promise<void> | null = null;
  /** Ad breaks already taken on (the receipt repeats a break until it is over). */
  private readonly adBreaksSeen = new Set<string>();

  constructor(
    private readonly config: RelayConfig,
    private readonly deps: RelayWorkerDeps,
  ) {
    this.now = deps.clock ? () => deps.clock!.now() : Date.now;
    this.random = deps.random ?? Math.random;
    const stallMs = config.segmentSeconds * 3000 + 10_000;
    this.machineOptions = {
      backoff: config.backoff,
      offlineAfterMs: config.offlineAfterMs,
      stallMs,
      firstSegmentMs: stallMs + 10_000,
    };
    this.machine = initialRelayState(this.now());
    this.metrics = createRelayMetrics(config.streamId);
    this.log = pino(
      {
        level: config.logLevel,
        base: { relay_worker_id: config.relayId, stream_id: config.streamId },
        mixin: () => ({ listener_count: this.listeners }),
        // The field names of the server's lines and of deploy/logging's index template.
        messageKey: 'message',
        // `err` is already the template's object (errorFields); an Error passed as is gets the same shape.
        serializers: { err: (e: unknown) => (e instanceof Error ? errorFields(e).err : e) },
        timestamp: () => `,"timestamp":"${new Date(this.now()).toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
        // Belt and braces: nothing logs these, and if something ever does, they are masked.
        redact: {
          paths: ['password', 'token', '*.password', '*.token', 'headers.authorization', 'headers.Authorization'],
          censor: '[redacted]',
        },
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
    this.archive = new ArchiveRecorder(deps.blobStore, config.streamId, {
      started: (prefix) => this.log.info({ event: 'archive.started', prefix }, 'keeping the live set for its episode'),
      stopped: (prefix) => this.log.info({ event: 'archive.stopped', prefix }, 'no longer keeping segments for this set'),
      keepFailed: (msn, err) =>
        this.log.error({ event: 'archive.keep_failed', msn, ...errorFields(err) }, 'could not keep a segment of the set'),
    });
    this.publisher = new SegmentPublisher(
      deps.blobStore,
      config.streamId,
      { minSegments: config.window, segmentSeconds: config.segmentSeconds, backoff: config.backoff },
      this.now,
      this.stopController.signal,
      {
        resumed: (i) =>
          this.log.info(
            { event: 'relay.resumed', next_msn: i.nextMsn, media_sequence: i.mediaSequence, stored_segments: i.storedSegments },
            'continuing the media sequence of an earlier worker',
          ),
        storageUnavailable: (err, wait) =>
          this.log.error(
            { event: 'storage.unavailable', ...errorFields(err), retry_in_ms: wait },
            'cannot read the live playlist from storage',
          ),
        segmentUploadFailed: (msn, err) =>
          this.log.error({ event: 'segment.upload_failed', msn, ...errorFields(err) }, 'segment upload failed; skipping it'),
        playlistUploadFailed: (msn, err) =>
          this.log.error(
            { event: 'playlist.upload_failed', msn, ...errorFields(err) },
            'playlist upload failed; the next segment retries it',
          ),
        segmentDeleted: (msn) => this.log.debug({ event: 'segment.deleted', msn }, 'segment past its grace period deleted'),
        segmentDeleteFailed: (msn, err) =>
          this.log.warn({ event: 'segment.delete_failed', msn, ...errorFields(err) }, 'could not delete an old segment'),
        cleanUploadFailed: (msn, breakId, err) => {
          this.metrics.adFreeMissing.inc(this.metrics.labels);
          this.log.warn(
            { event: 'ad_break.adfree_missing', break_id: breakId, msn, reason: 'upload failed', ...errorFields(err) },
            'could not store the clean twin of a break segment; the ad-free playlist lists the ad there',
          );
        },
        adFreePlaylistUploadFailed: (msn, err) =>
          this.log.error(
            { event: 'playlist.adfree_upload_failed', msn, ...errorFields(err) },
            'ad-free playlist upload failed; the next segment retries it',
          ),
      },
    );
  }

  get port(): number | null {
    return this.health?.port ?? null;
  }

  get ffmpegPid(): number | null {
    return this.run?.source.pid ?? null;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.startedAt = this.now();
    this.machine = initialRelayState(this.startedAt);
    try {
      this.health = await startHealthServer({
        host: this.config.http.host,
        port: this.config.http.port,
        status: () => this.status(),
        metrics: async () => ({ contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() }),
      });
    } catch (err) {
      // Relaying matters more than metrics: keep going, loudly.
      this.log.error(
        { event: 'health.listen_failed', port: this.config.http.port, ...errorFields(err) },
        'cannot serve /healthz and /metrics',
      );
    }
    this.log.info(
      { event: 'relay.started', config: describeRelayConfig(this.config), health_port: this.port },
      'relay worker started',
    );
    this.sendHeartbeat('state');
    this.every(this.config.heartbeatMs, () => this.sendHeartbeat('tick'));
    this.every(this.deps.cpuSampleIntervalMs ?? 5000, () => this.sampleCpu());
    this.every(this.deps.statsIntervalMs ?? 10_000, () => void this.pollStats());
    void this.pollStats();
    void this.publisher.resume().then(() => this.dispatch({ type: 'tick' }));
  }

  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  status(): RelayStatus {
    return {
      status: 'ok',
      state: this.machine.phase,
      relay_id: this.config.relayId,
      stream_id: this.config.streamId,
      media_sequence: this.publisher.mediaSequence,
      segment_lag_seconds: this.segmentLagSeconds(),
      listener_count: this.listeners,
      current_track: np.currentTrack(this.nowPlaying),
      bitrate_kbps: np.bitrateKbps(this.nowPlaying),
      content_type: np.contentType(this.nowPlaying),
      source_kind: this.config.source.kind,
      cpu_usage: this.cpu,
      paywall: this.config.paywall.enabled,
      visibility: this.config.paywall.visibility,
      uptime_seconds: Math.round((this.now() - this.startedAt) / 1000),
    };
  }

  heartbeatBody(): HeartbeatBody {
    return {
      state: this.machine.phase,
      listener_count: this.listeners,
      // The source counts relays among its listeners; the API subtracts them. With the
      // source's client list that is every djcast relay on the mount, otherwise our own pull.
      relay_connections: this.relayConnectionsSeen ?? (this.sourceConnected ? 1 : 0),
      cpu_usage: this.cpu,
      segment_lag_seconds: this.segmentLagSeconds(),
      current_track: np.currentTrack(this.nowPlaying),
      bitrate_kbps: np.bitrateKbps(this.nowPlaying),
      media_sequence: this.publisher.mediaSequence,
      source_kind: this.config.source.kind,
      content_type: np.contentType(this.nowPlaying),
      ad_breaks_taken: [...this.adBreaksSeen].slice(-AD_BREAKS_REPORTED),
    };
  }

  // --- the state machine's shell ---------------------------------------------

  private dispatch(event: RelayEvent): void {
    const { state, effects } = relayTransition(this.machine, event, this.now(), this.machineOptions);
    this.machine = state;
    for (const effect of effects) {
      try {
        this.apply(effect);
      } catch (err) {
        this.crash(err as Error);
        return;
      }
    }
    this.scheduleWake();
  }

  private scheduleWake(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const at = nextWakeAt(this.machine, this.machineOptions);
    if (at === null) return;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = null;
        this.dispatch({ type: 'tick' });
      },
      Math.max(0, at - this.now()),
    );
  }

  private apply(effect: RelayEffect): void {
    switch (effect.type) {
      case 'start_run':
        this.startRun(effect.run);
        return;
      case 'kill_run':
        if (effect.reason === 'stalled') {
          this.log.warn(
            { event: 'source.stalled', run: this.run?.index ?? null, silent_ms: this.now() - this.machine.lastProgressAt },
            'no segment from ffmpeg; restarting it',
          );
        }
        this.run?.source.kill(effect.reason === 'stalled' ? 'no audio from the source' : 'relay stopping');
        return;
      case 'state_changed':
        this.log.info(
          { event: 'state.changed', from: effect.from, to: effect.to, media_sequence: this.publisher.mediaSequence },
          `relay is ${effect.to}`,
        );
        if (!this.stopController.signal.aborted) this.sendHeartbeat('state');
        return;
      case 'source_lost':
        this.metrics.sourceRestarts.inc(this.metrics.labels);
        this.log.warn(
          { event: 'source.lost', run: effect.run, segments: effect.segments, reason: effect.reason },
          'source dropped; reconnecting',
        );
        return;
      case 'source_failed':
        this.metrics.sourceRestarts.inc(this.metrics.labels);
        this.log.warn(
          { event: 'source.failed', run: effect.run, attempt: effect.attempt, reason: effect.reason },
          'could not pull the source',
        );
        return;
      case 'retry_scheduled':
        this.log.debug(
          { event: 'source.retry_scheduled', delay_ms: effect.delayMs, attempt: effect.attempt },
          'retrying the source',
        );
        return;
      case 'source_connected':
        this.log.info({ event: 'source.connected', run: effect.run }, 'receiving audio from the source');
        return;
    }
  }

  private crash(err: Error): void {
    this.log.fatal({ event: 'relay.crashed', ...errorFields(err) }, 'relay crashed');
    void this.stop().then(() => this.deps.onFatal?.(err));
  }

  // --- source runs ----------------------------------------------------------

  private startRun(index: number): void {
    this.publisher.markDiscontinuity();
    const source = startSourceRun({
      sourceUrl: this.config.source.url,
      ...(this.config.source.username !== undefined ? { username: this.config.source.username } : {}),
      ...(this.config.source.password !== undefined ? { password: this.config.source.password } : {}),
      userAgent: RELAY_USER_AGENT,
      ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
      allowPrivate: this.config.allowPrivateUrls ?? false,
      ffmpegPath: this.config.ffmpegPath,
      audio: this.config.audio,
      segmentSeconds: this.config.segmentSeconds,
      onSourceConnected: (info) => {
        this.sourceConnected = true;
        this.nowPlaying = np.withIcyHeaders(this.nowPlaying, info);
      },
      onTitle: (title) => {
        this.nowPlaying = np.withIcyTitle(this.nowPlaying, title);
        this.noteTrack();
      },
      onInputInfo: (info) => {
        this.nowPlaying = np.withInput(this.nowPlaying, info);
        this.log.info(
          { event: 'source.opened', run: index, codec: info.codec, bitrate_kbps: info.bitrateKbps, sample_rate: info.sampleRate },
          'ffmpeg opened the source',
        );
      },
      onSourceReconnected: (reason) =>
        this.log.info(
          { event: 'source.reconnected', run: index, reason },
          'source connection dropped and reopened; ffmpeg kept running',
        ),
      onSpawned: (pid, args) =>
        this.log.debug({ event: 'ffmpeg.started', run: index, pid, args: args.join(' ') }, 'starting ffmpeg'),
      onSegment: (segment, adBreak) => this.publishSegment(index, segment, adBreak),
      onCleanBreakExit: (breakId, failure) => {
        if (failure !== null)
          this.log.warn(
            { event: 'ad_break.adfree_encoder_failed', break_id: breakId, reason: failure },
            'the ad-free rendition of a break failed; ad-free listeners hear the ad for what it did not cover',
          );
      },
      onInputSwitch: (event) => this.onInputSwitch(event),
      now: this.now,
    });
    const done = source.done.then(
      (result) => {
        const stopping = this.stopController.signal.aborted;
        this.log[stopping ? 'info' : 'warn'](
          {
            event: 'ffmpeg.exited',
            run: index,
            exit_code: result.exitCode,
            signal: result.signal,
            dropped_seconds: Math.round(result.droppedSeconds * 1000) / 1000,
            stderr_tail: result.stderrTail.slice(-5).join('\n'),
          },
          'ffmpeg exited',
        );
        this.sourceConnected = false;
        this.nowPlaying = np.withoutIcy(this.nowPlaying);
        this.noteTrack();
        this.run = null;
        this.dispatch({ type: 'run_ended', reason: result.failure, jitter: this.random() });
      },
      (err: unknown) => this.crash(err as Error),
    );
    this.run = { index, source, done };
  }

  private async publishSegment(run: number, segment: TsSegment, adBreak?: BreakTwin): Promise<void> {
    const started = performance.now();
    const completeAt = this.now();
    if (segment.discontinuity) this.publisher.markDiscontinuity();
    // An ad break's edges: a discontinuity each, and the break's EXT-X-DATERANGE on its first segment.
    let dateRange: LiveDateRange | undefined;
    for (const mark of segment.marks as AdBreakMark[]) {
      this.publisher.markDiscontinuity();
      if (mark.kind === 'ad_started' && mark.event.type === 'ad_started')
        dateRange = {
          id: mark.event.breakId,
          startDate: new Date(mark.atMs).toISOString(),
          duration: mark.event.durationSeconds,
        };
    }
    if (adBreak && !adBreak.clean) {
      // Listeners on an ad-free plan hear the ad for this segment: counted and logged, never silent.
      this.metrics.adFreeMissing.inc(this.metrics.labels);
      this.log.warn(
        { event: 'ad_break.adfree_missing', break_id: adBreak.breakId, duration_seconds: segment.duration },
        'no clean audio for a break segment; the ad-free playlist lists the ad there',
      );
    }
    const result = await this.publisher.publish(
      segment.bytes,
      segment.duration,
      dateRange,
      adBreak ? { id: adBreak.breakId, clean: adBreak.clean } : undefined,
    );
    if (!result) return;
    await this.archive.keep(result.msn, segment.bytes, segment.duration, completeAt);
    const seconds = (performance.now() - started) / 1000;
    this.lastSegmentAt = this.now();
    this.metrics.segmentGenerationSeconds.observe(this.metrics.labels, seconds);
    this.metrics.segmentsPublished.inc(this.metrics.labels);
    this.log.info(
      {
        event: 'segment.published',
        run,
        msn: result.msn,
        duration_seconds: segment.duration,
        discontinuity: result.discontinuity,
        media_sequence: result.mediaSequence,
        playlist_segments: result.playlistSegments,
        publish_seconds: Math.round(seconds * 1000) / 1000,
      },
      result.playlistPublished ? 'segment published' : 'segment uploaded; playlist not yet published',
    );
    if (result.playlistPublished) this.dispatch({ type: 'published' });
  }

  // --- live ad breaks -----------------------------------------------------------

  private takeAdBreak(order: AdBreakOrder | null | undefined): void {
    if (!order || typeof order.id !== 'string' || typeof order.url !== 'string') return;
    if (this.adBreaksSeen.has(order.id) || this.stopController.signal.aborted) return;
    this.adBreaksSeen.add(order.id);
    void this.startAdBreak(order);
  }

  private async startAdBreak(order: AdBreakOrder): Promise<void> {
    const duration = Number(order.duration_seconds);
    if (!(duration > 0 && duration <= 3600)) return this.adBreakFailed(order, `invalid duration ${order.duration_seconds}`);
    if (!this.run) return this.adBreakFailed(order, 'the relay is not receiving the source');
    let url: URL;
    // The ad at the source's sample rate: its frames replace the source's one for one.
    const sampleRate = this.run.source.sourceSampleRate;
    try {
      url = new URL(adUrlFor(order, sampleRate), `${this.config.api.url.replace(/\/+$/, '')}/`);
    } catch {
      return this.adBreakFailed(order, 'the ad URL is not a URL');
    }
    // The API's own signed URL reaches the API the worker already reports to; any other host
    // (an object store's presigned URL) goes through the address policy like a source.
    const api = new URL(this.config.api.url);
    const fromApi = url.origin === api.origin;
    this.log.info(
      {
        event: 'ad_break.fetching',
        break_id: order.id,
        ad_id: order.ad_id,
        duration_seconds: duration,
        sample_rate: sampleRate,
      },
      'fetching the ad for a live break',
    );
    let feed: Awaited<ReturnType<typeof openAdFeed>>;
    try {
      feed = await openAdFeed({
        url: url.toString(),
        userAgent: RELAY_USER_AGENT,
        ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
        allowPrivate: fromApi || (this.config.allowPrivateUrls ?? false),
        durationSeconds: duration,
        signal: this.stopController.signal,
      });
    } catch (err) {
      return this.adBreakFailed(order, `the ad could not be fetched: ${(err as Error).message}`);
    }
    const why = this.run
      ? this.run.source.startAdBreak({ id: order.id, adId: order.ad_id, durationSeconds: duration, ad: feed })
      : 'the relay is not receiving the source';
    if (why !== null) {
      feed.close();
      this.adBreakFailed(order, why);
    }
  }

  private onInputSwitch(event: InputSwitchEvent): void {
    if (event.type === 'ad_started') {
      this.log.info(
        { event: 'ad_break.started', break_id: event.breakId, ad_id: event.adId, duration_seconds: event.durationSeconds },
        'ad break started',
      );
    } else if (event.outcome === 'completed') {
      this.log.info(
        { event: 'ad_break.ended', break_id: event.breakId, ad_id: event.adId, played_seconds: round3(event.playedSeconds) },
        'ad break over; back to the source',
      );
    } else {
      this.adBreakFailed({ id: event.breakId, ad_id: event.adId }, event.reason ?? 'the ad failed', round3(event.playedSeconds));
    }
  }

  /** The stream goes on without the ad: counted and logged with the stream (in every line) and the ad. */
  private adBreakFailed(order: Pick<AdBreakOrder, 'id' | 'ad_id'>, reason: string, playedSeconds = 0): void {
    this.metrics.adBreakFailures.inc(this.metrics.labels);
    this.log.error(
      { event: 'ad_break.failed', break_id: order.id, ad_id: order.ad_id, reason, played_seconds: playedSeconds },
      'ad break failed; the source plays on',
    );
  }

  // --- source information -----------------------------------------------------

  private async pollStats(): Promise<void> {
    if (this.statsInFlight || this.stopController.signal.aborted) return;
    this.statsInFlight = true;
    try {
      const snapshot = await readSourceSnapshot({
        kind: this.config.source.kind,
        sourceUrl: this.config.source.url,
        statsUrl: this.config.source.statsUrl,
        ...(this.config.source.admin ? { admin: this.config.source.admin } : {}),
        ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
        allowPrivate: this.config.allowPrivateUrls ?? false,
      });
      this.listeners = snapshot.listeners;
      this.relayConnectionsSeen = snapshot.relayConnections;
      this.nowPlaying = np.withStats(this.nowPlaying, snapshot.stats);
      this.metrics.listenerCount.set(
        this.metrics.labels,
        Math.max(0, this.listeners - (this.relayConnectionsSeen ?? (this.sourceConnected ? 1 : 0))),
      );
      if (this.statsFailing) this.log.info({ event: 'stats.recovered' }, 'source stats readable again');
      this.statsFailing = false;
      this.noteTrack();
    } catch (err) {
      if (!this.statsFailing) {
        this.log.warn(
          { event: 'stats.failed', stats_url: this.config.source.statsUrl, ...errorFields(err) },
          'cannot read the source stats',
        );
      }
      this.statsFailing = true;
    } finally {
      this.statsInFlight = false;
    }
  }

  private noteTrack(): void {
    const track = np.currentTrack(this.nowPlaying);
    // An ICY connection that carries no title yet must not hide the stats page's from the set's chapters.
    this.archive.noteTitle(track || this.nowPlaying.statsTitle, this.now());
    if (track !== this.lastTrack) {
      this.lastTrack = track;
      this.log.info({ event: 'track.changed', current_track: track }, 'now playing');
    }
  }

  // --- heartbeats, health, helpers ---------------------------------------------

  private sendHeartbeat(reason: HeartbeatReason): void {
    this.heartbeats.enqueue(this.heartbeatBody(), reason);
  }

  private onHeartbeatResult(result: HeartbeatResult): void {
    if (result.ok && result.reason !== 'final') {
      this.archive.setPrefix(result.receipt?.archive_prefix);
      this.takeAdBreak(result.receipt?.ad_break);
    }
    if (result.ok) {
      this.log.debug({ event: 'heartbeat.sent', state: result.body.state, reason: result.reason }, 'heartbeat sent');
    } else {
      this.log.warn(
        {
          event: 'heartbeat.failed',
          state: result.body.state,
          reason: result.reason,
          status_code: result.status ?? null,
          error_type: result.status === undefined ? 'HeartbeatError' : 'HeartbeatRejected',
          err: { type: result.status === undefined ? 'HeartbeatError' : 'HeartbeatRejected', message: result.error ?? 'unknown' },
        },
        'heartbeat failed; retrying on the next tick',
      );
    }
  }

  private sampleCpu(): void {
    this.cpu = this.cpuSampler.sample(this.run?.source.pid);
    this.metrics.cpuUsagePercent.set(this.metrics.labels, this.cpu);
  }

  private segmentLagSeconds(): number {
    if (!this.started) return 0;
    return Math.round((this.now() - (this.lastSegmentAt ?? this.startedAt)) / 100) / 10;
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  private async doStop(): Promise<void> {
    if (!this.started) return;
    this.log.info({ event: 'relay.stopping', state: this.machine.phase }, 'stopping');
    this.stopController.abort();
    this.dispatch({ type: 'stop' }); // kills the run; the state becomes offline
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const run = this.run;
    if (run) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([run.done, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
    }
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.sendHeartbeat('final');
    await this.heartbeats.drain(5000);
    await this.health?.close();
    this.log.info({ event: 'relay.stopped', media_sequence: this.publisher.mediaSequence }, 'stopped');
    await new Promise<void>((resolve) => this.log.flush(() => resolve()));
  }
}

/**
 * An error as the index template maps it (and as the server logs one):
 * `error_type` a keyword to search by, `err` an object with its type,
 * message and stack.
 */
export function errorFields(err: unknown): { error_type: string; err: { type: string; message: string; stack?: string } } {
  const e = err instanceof Error ? err : new Error(String(err));
  const type = e.name || 'Error';
  return { error_type: type, err: { type, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
