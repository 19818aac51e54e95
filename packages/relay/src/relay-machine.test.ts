import { describe, expect, it } from 'vitest';
import {
  initialRelayState,
  nextWakeAt,
  type RelayEffect,
  type RelayEvent,
  type RelayMachineOptions,
  type RelayMachineState,
  relayTransition,
} from './relay-machine.js';

const options: RelayMachineOptions = {
  backoff: { initialMs: 1000, maxMs: 30_000 },
  offlineAfterMs: 5 * 60_000,
  stallMs: 28_000,
  firstSegmentMs: 38_000,
};

/** A fake clock and the machine: events at chosen times, ticks exactly when the machine asks for them. */
class Sim {
  now = 1_700_000_000_000;
  readonly t0 = this.now;
  state: RelayMachineState = initialRelayState(this.now);
  readonly log: Array<{ at: number; effect: RelayEffect }> = [];

  send(event: RelayEvent): RelayEffect[] {
    const { state, effects } = relayTransition(this.state, event, this.now, options);
    this.state = state;
    for (const effect of effects) this.log.push({ at: this.now - this.t0, effect });
    return effects;
  }

  /** Advances the clock to the next wake-up (if before `limit`) and ticks; returns the effects. */
  wake(limit = Number.POSITIVE_INFINITY): RelayEffect[] {
    const at = nextWakeAt(this.state, options);
    if (at === null || at - this.t0 > limit) return [];
    this.now = Math.max(this.now, at);
    return this.send({ type: 'tick' });
  }

  advance(ms: number): RelayEffect[] {
    const until = this.now - this.t0 + ms;
    const out: RelayEffect[] = [];
    for (;;) {
      const at = nextWakeAt(this.state, options);
      if (at === null || at - this.t0 > until) break;
      out.push(...this.wake(until));
    }
    this.now = this.t0 + until;
    out.push(...this.send({ type: 'tick' }));
    return out;
  }

  /** A source that is down: every run ends as soon as it starts. Runs the clock until `untilMs` after t0. */
  sourceDownUntil(untilMs: number, jitter = 1): void {
    for (;;) {
      const at = nextWakeAt(this.state, options);
      if (at === null || at - this.t0 > untilMs) break;
      const effects = this.wake(untilMs);
      if (effects.some((e) => e.type === 'start_run')) this.send({ type: 'run_ended', reason: 'connect ECONNREFUSED', jitter });
    }
    this.now = this.t0 + untilMs;
  }

  effects(type: RelayEffect['type']) {
    return this.log.filter((l) => l.effect.type === type);
  }
}

const states = (sim: Sim) => sim.effects('state_changed').map((l) => [l.at, (l.effect as { to: string }).to]);

describe('relay state machine (fake clock)', () => {
  it('starts the first run at once and goes live with the first published playlist', () => {
    const sim = new Sim();
    expect(sim.state.phase).toBe('starting');
    expect(sim.wake()).toEqual([{ type: 'start_run', run: 0 }]);
    sim.now += 19_000;
    expect(sim.send({ type: 'published' })).toEqual([
      { type: 'source_connected', run: 0 },
      { type: 'state_changed', from: 'starting', to: 'live' },
    ]);
    expect(sim.state.failingSince).toBeNull();
    // While live and publishing, the only wake-up is the stall check.
    expect(nextWakeAt(sim.state, options)).toBe(sim.now + options.stallMs + 1);
  });

  it('retries a lost source with exponential backoff (full jitter ceilings 1, 2, 4 ... 30 s) and goes offline after exactly 5 minutes', () => {
    const sim = new Sim();
    sim.wake();
    sim.send({ type: 'published' });
    sim.now += 60_000; // live for a minute
    const lostAt = sim.now - sim.t0;
    sim.send({ type: 'run_ended', reason: 'source closed the connection', jitter: 1 });
    expect(sim.effects('source_lost')).toHaveLength(1);
    sim.sourceDownUntil(lostAt + 10 * 60_000);

    const delays = sim.effects('retry_scheduled').map((l) => (l.effect as { delayMs: number }).delayMs);
    expect(delays.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    // Runs start exactly when their backoff is over.
    const starts = sim
      .effects('start_run')
      .map((l) => l.at)
      .slice(1);
    const ends = sim.effects('retry_scheduled').map((l, i) => l.at + delays[i]!);
    expect(starts).toEqual(ends.slice(0, starts.length));

    expect(states(sim)).toEqual([
      [0, 'live'],
      [lostAt, 'reconnecting'],
      [lostAt + 5 * 60_000, 'offline'],
    ]);
    // Offline, it keeps retrying every backoff.maxMs.
    const offlineDelays = sim
      .effects('retry_scheduled')
      .filter((l) => l.at >= lostAt + 5 * 60_000)
      .map((l) => (l.effect as { delayMs: number }).delayMs);
    expect(offlineDelays.length).toBeGreaterThanOrEqual(9);
    expect(new Set(offlineDelays)).toEqual(new Set([30_000]));
  });

  it('uses the jitter it is given: a delay is a uniform pick below the ceiling', () => {
    const sim = new Sim();
    sim.wake();
    const effects = sim.send({ type: 'run_ended', reason: 'x', jitter: 0.25 });
    expect(effects).toContainEqual({ type: 'retry_scheduled', delayMs: 250, attempt: 0 });
    sim.wake();
    expect(sim.send({ type: 'run_ended', reason: 'x', jitter: 0.5 })).toContainEqual({
      type: 'retry_scheduled',
      delayMs: 1000,
      attempt: 1,
    });
  });

  it('counts the offline window from the start when the source never came up', () => {
    const sim = new Sim();
    sim.sourceDownUntil(5 * 60_000 + 1);
    expect(states(sim)).toEqual([
      [0, 'reconnecting'],
      [5 * 60_000, 'offline'],
    ]);
  });

  it('goes offline at the deadline even in the middle of a long backoff wait', () => {
    const sim = new Sim();
    sim.wake();
    sim.send({ type: 'published' });
    sim.now += 10_000;
    sim.send({ type: 'run_ended', reason: 'gone', jitter: 1 });
    // A run that connects but never publishes, then hangs until killed by the stall watchdog.
    sim.advance(1000);
    expect(sim.state.running).toBe(true);
    const killed = sim.advance(options.firstSegmentMs + 1);
    expect(killed).toContainEqual({ type: 'kill_run', reason: 'stalled' });
    sim.send({ type: 'run_ended', reason: 'no audio from the source', jitter: 1 });
    expect(sim.state.phase).toBe('reconnecting');
    sim.sourceDownUntil(10_000 + 5 * 60_000 - 1);
    expect(sim.state.phase).toBe('reconnecting');
    sim.sourceDownUntil(10_000 + 5 * 60_000);
    expect(sim.state.phase).toBe('offline');
  });

  it('comes back live on the first playlist after the source returns, and the backoff starts over', () => {
    const sim = new Sim();
    sim.sourceDownUntil(6 * 60_000);
    expect(sim.state.phase).toBe('offline');
    // Next retry connects.
    const effects = sim.wake();
    expect(effects).toEqual([{ type: 'start_run', run: sim.state.runs - 1 }]);
    sim.now += 20_000;
    sim.send({ type: 'published' });
    expect(sim.state.phase).toBe('live');
    expect(sim.state.attempt).toBe(0);
    sim.now += 5_000;
    expect(sim.send({ type: 'run_ended', reason: 'gone', jitter: 1 })).toContainEqual({
      type: 'retry_scheduled',
      delayMs: 1000,
      attempt: 0,
    });
  });

  it('kills a live run that stops producing segments, once', () => {
    const sim = new Sim();
    sim.wake();
    sim.send({ type: 'published' });
    expect(sim.advance(options.stallMs)).toEqual([]);
    expect(sim.advance(2)).toEqual([{ type: 'kill_run', reason: 'stalled' }]);
    expect(sim.advance(60_000)).toEqual([]);
    expect(nextWakeAt(sim.state, options)).toBeNull();
  });

  it('stop kills the run, reports offline and ignores everything after', () => {
    const sim = new Sim();
    sim.wake();
    sim.send({ type: 'published' });
    expect(sim.send({ type: 'stop' })).toEqual([
      { type: 'kill_run', reason: 'stopping' },
      { type: 'state_changed', from: 'live', to: 'offline' },
    ]);
    expect(sim.send({ type: 'run_ended', reason: 'killed', jitter: 1 })).toEqual([]);
    expect(sim.send({ type: 'tick' })).toEqual([]);
    expect(nextWakeAt(sim.state, options)).toBeNull();
  });
});
