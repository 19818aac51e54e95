import { describe, expect, it } from 'vitest';
import { manualClock } from '../../testing/wait.js';
import type { PieceSource } from '../../media/mp3-concat.js';
import { SessionRecorder, type FinishedSession } from './sessions.js';

function recorder(clock = manualClock(Date.parse('2025-06-01T10:00:00Z'))) {
  const written: FinishedSession[] = [];
  let writes = 0;
  const r = new SessionRecorder({
    write: async (rows) => {
      writes++;
      written.push(...rows);
    },
    clock: clock.now,
    flushIntervalMs: 60_000,
  });
  return { r, written, clock, writes: () => writes };
}

function pieces(sizes: number[]): PieceSource & { destroyed: boolean } {
  let i = 0;
  return {
    destroyed: false,
    async next() {
      return i < sizes.length ? Buffer.alloc(sizes[i++]!) : null;
    },
    destroy() {
      this.destroyed = true;
    },
  };
}

describe('listener sessions', () => {
  it('HLS: fetches within two target durations are one session; a longer gap starts another', async () => {
    const { r, written, clock } = recorder();
    r.hls('stream', 'str_a', 'k1', 6);
    clock.advance(6_000);
    r.hls('stream', 'str_a', 'k1', 6);
    clock.advance(12_000); // exactly two target durations: still the same session
    r.hls('stream', 'str_a', 'k1', 6);
    clock.advance(12_001); // longer: a new session
    r.hls('stream', 'str_a', 'k1', 6);
    await r.flush();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      protocol: 'hls',
      resource_id: 'str_a',
      started_at: '2025-06-01T10:00:00.000Z',
      // One target duration after the last fetch.
      ended_at: '2025-06-01T10:00:24.000Z',
      audio_ms: 24_000,
    });
    clock.advance(12_001);
    await r.flush();
    expect(written).toHaveLength(2);
    expect(r.openSessions).toBe(0);
  });

  it('HLS: listeners and resources are kept apart', async () => {
    const { r, written } = recorder();
    r.hls('stream', 'str_a', 'k1', 6);
    r.hls('stream', 'str_a', 'k2', 6);
    r.hls('playlist', 'pls_b', 'k1', 6);
    await r.stop();
    expect(written.map((s) => `${s.resource_id}/${s.listener_key}`).sort()).toEqual(['pls_b/k1', 'str_a/k1', 'str_a/k2']);
  });

  it('MP3: a connection that received bytes is a session with its bytes and audio time; one that received none is not', async () => {
    const { r, written, clock } = recorder();
    const body = r.mp3('playlist', 'pls_b', 'k1', pieces([16_000, 16_000, 8_000]), 4_000);
    while ((await body.next()) !== null) clock.advance(1000);
    const empty = r.mp3('playlist', 'pls_b', 'k2', pieces([]), 4_000);
    expect(await empty.next()).toBeNull();
    await r.flush();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ protocol: 'mp3', bytes: 40_000, audio_ms: 10_000, listener_key: 'k1' });
  });

  it('MP3: a listener leaving mid-stream closes the session once, with what it got', async () => {
    const { r, written } = recorder();
    const source = pieces([4_000, 4_000, 4_000]);
    const body = r.mp3('playlist', 'pls_b', 'k1', source, 4_000);
    await body.next();
    body.destroy();
    body.destroy();
    await r.flush();
    expect(source.destroyed).toBe(true);
    expect(written).toEqual([expect.objectContaining({ bytes: 4_000, audio_ms: 1_000 })]);
  });

  it('writes in batches: a thousand sessions take a few writes, not a thousand', async () => {
    const { r, written, writes } = recorder();
    for (let i = 0; i < 1000; i++) r.hls('stream', 'str_a', `k${i}`, 6);
    await r.stop();
    expect(written).toHaveLength(1000);
    expect(writes()).toBeLessThanOrEqual(3);
  });

  it('keeps the rows of a failed write for the next one', async () => {
    const clock = manualClock(Date.parse('2025-06-01T10:00:00Z'));
    const written: FinishedSession[] = [];
    let fail = true;
    const r = new SessionRecorder({
      clock: clock.now,
      flushIntervalMs: 60_000,
      write: async (rows) => {
        if (fail) throw new Error('database down');
        written.push(...rows);
      },
    });
    r.hls('stream', 'str_a', 'k1', 6);
    await r.stop();
    expect(written).toHaveLength(0);
    fail = false;
    await r.flush();
    expect(written).toHaveLength(1);
  });

  it('costs little on the hot path: a playlist fetch and a piece count take microseconds', async () => {
    const { r } = recorder();
    const n = 200_000;
    let t0 = performance.now();
    for (let i = 0; i < n; i++) r.hls('stream', 'str_a', `k${i % 5000}`, 6);
    const hlsNs = ((performance.now() - t0) * 1e6) / n;
    const body = r.mp3('playlist', 'pls_b', 'k', pieces(Array(n).fill(1)), 4_000);
    t0 = performance.now();
    while ((await body.next()) !== null);
    const pieceNs = ((performance.now() - t0) * 1e6) / n;
    console.log(
      `analytics hot path: hls touch ${hlsNs.toFixed(0)} ns, mp3 piece ${pieceNs.toFixed(0)} ns (incl. the source's own await)`,
    );
    // Generous bounds for a loaded 2-core machine; a database write per fetch would be ~100x these.
    expect(hlsNs).toBeLessThan(20_000);
    expect(pieceNs).toBeLessThan(50_000);
  });
});
