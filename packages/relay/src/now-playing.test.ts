import { describe, expect, it } from 'vitest';
import * as np from './now-playing.js';

const input = { format: 'mp3', codec: 'mp3', sampleRate: 44100, bitrateKbps: 320, contentType: 'audio/mpeg' };

describe('now playing', () => {
  it('prefers the stats page, then the ICY headers, then what FFmpeg saw, for bitrate and content type', () => {
    let state = np.withInput(np.emptyNowPlaying, input);
    expect([np.bitrateKbps(state), np.contentType(state)]).toEqual([320, 'audio/mpeg']);
    state = np.withIcyHeaders(state, { contentType: 'audio/aacp', bitrateKbps: 64 });
    expect([np.bitrateKbps(state), np.contentType(state)]).toEqual([64, 'audio/aacp']);
    state = np.withStats(state, { currentTrack: 'Stats - Title', bitrateKbps: 128, contentType: 'audio/mpeg' });
    expect([np.bitrateKbps(state), np.contentType(state)]).toEqual([128, 'audio/mpeg']);
    state = np.withStats(state, null);
    expect([np.bitrateKbps(state), np.contentType(state)]).toEqual([64, 'audio/aacp']);
  });

  it('takes the track from in-band ICY metadata while the connection lasts, even an empty title, then falls back to the stats page', () => {
    let state = np.withStats(np.emptyNowPlaying, { currentTrack: 'Stats - Title', bitrateKbps: null, contentType: null });
    expect(np.currentTrack(state)).toBe('Stats - Title');
    state = np.withIcyTitle(state, 'Icy - Title');
    expect(np.currentTrack(state)).toBe('Icy - Title');
    state = np.withIcyTitle(state, null);
    expect(np.currentTrack(state)).toBeNull();
    state = np.withoutIcy(state);
    expect(np.currentTrack(state)).toBe('Stats - Title');
  });
});
