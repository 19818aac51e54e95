import { nextBackoffDelay } from './backoff.js';
import type { RelayState } from './heartbeat.js';

/**
 * The relay's lifecycle as a pure function of (state, event, now): when to
 * (re)start a source run, when a run has stalled, when the stream is live,
 * reconnecting or offline. The worker feeds it events and the clock, carries
 * out the effects it returns, and wakes it up at `nextWakeAt`. No timers,
 * no I/O, so every rule is tested with a fake clock.
 *
 * Rules (story 2002.4):
 * - `starting` until the first playlist is published, then `live`;
 * - when a run ends, the next one starts after an exponential backoff with
 *   full jitter (attempt resets once the stream was live);
 * - after `offlineAfterMs` of continuous failure (counted from the start, or
 *   from the moment a live stream lost its source) the state is `offline`,
 *   and retries go on every `backoff.maxMs`;
 * - a run that publishes nothing for `stallMs` (`firstSegmentMs` before its
 *   first segment) is killed, which ends it like any other failure;
 * - `stop` ends everything: the state is `offline` and nothing restarts.
 */

export interface RelayMachineOptions {
  backoff: { initialMs: number; maxMs: number };
  offlineAfterMs: number;
  /** A running source that publishes no segment for this long is killed. */
  stallMs: number;
  /** The same before a run's first segment (opening and probing take longer). */
  firstSegmentMs: number;
}

export interface RelayMachineState {
  phase: RelayState;
  stopped: boolean;
  /** A source run (connection + FFmpeg) is in progress. */
  running: boolean;
  /** Run counter: the index the next run gets. */
  runs: number;
  /** Segments the current run has published. */
  runSegments: number;
  /** Last time the current run made progress (started or published). */
  lastProgressAt: number;
  /** A kill was asked of the current run (once per run). */
  killRequested: boolean;
  /** Backoff attempt for the next retry. */
  attempt: number;
  /** When the next run is due (null while one is running). */
  retryAt: number | null;
  /** Start of the current stretch without a live source; null while live. */
  failingSince: number | null;
}

export type RelayEvent =
  | { type: 'tick' }
  | { type: 'published' }
  | { type: 'run_ended'; reason: string; jitter: number }
  | { type: 'stop' };

export type RelayEffect =
  | { type: 'start_run'; run: number }
  | { type: 'kill_run'; reason: 'stalled' | 'stopping' }
  | { type: 'state_changed'; from: RelayState; to: RelayState }
  | { type: 'source_lost'; run: number; segments: number; reason: string }
  | { type: 'source_failed'; run: number; attempt: number; reason: string }
  | { type: 'retry_scheduled'; delayMs: number; attempt: number }
  | { type: 'source_connected'; run: number };

export interface RelayTransition {
  state: RelayMachineState;
  effects: RelayEffect[];
}

export function initialRelayState(now: number): RelayMachineState {
  return {
    phase: 'starting',
    stopped: false,
    running: false,
    runs: 0,
    runSegments: 0,
    lastProgressAt: now,
    killRequested: false,
    attempt: 0,
    retryAt: now, // the first run starts at once
    failingSince: now,
  };
}

export function relayTransition(
  state: RelayMachineState,
  event: RelayEvent,
  now: number,
  options: RelayMachineOptions,
): RelayTransition {
  if (state.stopped) return { state, effects: [] };
  const effects: RelayEffect[] = [];
  let next = { ...state };
  const setPhase = (to: RelayState) => {
    if (next.phase === to) return;
    effects.push({ type: 'state_changed', from: next.phase, to });
    next.phase = to;
  };

  switch (event.type) {
    case 'stop': {
      if (next.running) effects.push({ type: 'kill_run', reason: 'stopping' });
      setPhase('offline');
      next = { ...next, stopped: true, retryAt: null };
      return { state: next, effects };
    }
    case 'published': {
      if (!next.running) return { state, effects: [] };
      next.runSegments += 1;
      next.lastProgressAt = now;
      if (next.runSegments === 1) effects.push({ type: 'source_connected', run: next.runs - 1 });
      if (next.phase !== 'live') {
        next.failingSince = null;
        next.attempt = 0;
        setPhase('live');
      }
      return { state: next, effects };
    }
    case 'run_ended': {
      if (!next.running) return { state, effects: [] };
      const run = next.runs - 1;
      if (next.phase === 'live' && next.runSegments > 0) {
        next.attempt = 0;
        next.failingSince = now;
        effects.push({ type: 'source_lost', run, segments: next.runSegments, reason: event.reason });
      } else {
        next.failingSince ??= now;
        effects.push({ type: 'source_failed', run, attempt: next.attempt, reason: event.reason });
      }
      next.running = false;
      next.killRequested = false;
      const offline = now - next.failingSince >= options.offlineAfterMs;
      setPhase(offline ? 'offline' : 'reconnecting');
      const attempt = next.attempt;
      const delayMs = offline
        ? options.backoff.maxMs
        : nextBackoffDelay(attempt, { ...options.backoff, random: () => event.jitter });
      if (!offline) next.attempt += 1;
      next.retryAt = now + delayMs;
      effects.push({ type: 'retry_scheduled', delayMs, attempt });
      return { state: next, effects };
    }
    case 'tick': {
      if (next.failingSince !== null && next.phase !== 'live' && now - next.failingSince >= options.offlineAfterMs)
        setPhase('offline');
      if (next.running) {
        const limit = next.runSegments === 0 ? options.firstSegmentMs : options.stallMs;
        if (!next.killRequested && now - next.lastProgressAt > limit) {
          next.killRequested = true;
          effects.push({ type: 'kill_run', reason: 'stalled' });
        }
      } else if (next.retryAt !== null && now >= next.retryAt) {
        effects.push({ type: 'start_run', run: next.runs });
        next = {
          ...next,
          running: true,
          runs: next.runs + 1,
          runSegments: 0,
          lastProgressAt: now,
          killRequested: false,
          retryAt: null,
        };
      }
      return { state: next, effects };
    }
  }
}

/** When the machine next needs a tick (null: only an event can change anything). */
export function nextWakeAt(state: RelayMachineState, options: RelayMachineOptions): number | null {
  if (state.stopped) return null;
  const times: number[] = [];
  if (state.running) {
    if (!state.killRequested)
      times.push(state.lastProgressAt + (state.runSegments === 0 ? options.firstSegmentMs : options.stallMs) + 1);
  } else if (state.retryAt !== null) {
    times.push(state.retryAt);
  }
  if (state.failingSince !== null && state.phase !== 'live' && state.phase !== 'offline')
    times.push(state.failingSince + options.offlineAfterMs);
  return times.length > 0 ? Math.min(...times) : null;
}
