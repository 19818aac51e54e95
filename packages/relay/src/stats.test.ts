import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseIcecastStats,
  parseShoutcast1Stats,
  parseShoutcast2Stats,
  parseSourceStats,
  StatsParseError,
  statsUrlFor,
} from './stats.js';

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');

describe('parseShoutcast1Stats (/7.html)', () => {
  it('reads listeners, bitrate and title', () => {
    expect(parseShoutcast1Stats(fixture('shoutcast1-7.html'))).toEqual({
      listeners: 12,
      bitrateKbps: 128,
      currentTrack: 'Daft Punk - Around the World',
      contentType: null,
    });
  });

  it('keeps commas in the song title and decodes HTML entities', () => {
    expect(parseShoutcast1Stats(fixture('shoutcast1-7-comma-title.html'))).toEqual({
      listeners: 3,
      bitrateKbps: 192,
      currentTrack: 'DJ Foo - Live, Loud, and Proud (Mix 3, Part 2) & Friends',
      contentType: null,
    });
  });

  it('reports no track and no bitrate when no source is connected', () => {
    expect(parseShoutcast1Stats(fixture('shoutcast1-7-no-source.html'))).toEqual({
      listeners: 0,
      bitrateKbps: null,
      currentTrack: null,
      contentType: null,
    });
  });

  it('round-trips any title, commas included', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 100_000 }),
        fc.integer({ min: 8, max: 320 }),
        fc.string({ minLength: 1 }),
        (listeners, br, title) => {
          fc.pre(!/[<&]/.test(title) && title.replace(/\s+/g, ' ').trim().length > 0);
          const page = `<HTML><meta http-equiv="Pragma" content="no-cache"></head><body>${listeners},1,${listeners},500,${listeners},${br},${title}</body></html>`;
          const stats = parseShoutcast1Stats(page);
          expect(stats.listeners).toBe(listeners);
          expect(stats.bitrateKbps).toBe(br);
          expect(stats.currentTrack).toBe(title.replace(/\s+/g, ' ').trim());
        },
      ),
    );
  });

  it('rejects a page that is not a 7.html', () => {
    expect(() => parseShoutcast1Stats('<html><body>Not found</body></html>')).toThrow(StatsParseError);
    expect(() => parseShoutcast1Stats('<body>x,1,2,3,4,128,Title</body>')).toThrow(/CURRENTLISTENERS/);
  });
});

describe('parseShoutcast2Stats (/stats?sid=N&json=1)', () => {
  it('reads the documented fields, bitrate given as a string', () => {
    expect(parseShoutcast2Stats(fixture('shoutcast2-stats.json'))).toEqual({
      listeners: 7,
      bitrateKbps: 128,
      currentTrack: 'Bicep - Glue, Apricots, and Other Things',
      contentType: 'audio/mpeg',
    });
  });

  it('accepts a numeric bitrate and an empty title', () => {
    expect(parseShoutcast2Stats(fixture('shoutcast2-stats-aac.json'))).toEqual({
      listeners: 0,
      bitrateKbps: 64,
      currentTrack: null,
      contentType: 'audio/aacp',
    });
  });

  it('rejects HTML and JSON without currentlisteners', () => {
    expect(() => parseShoutcast2Stats('<html>login</html>')).toThrow(StatsParseError);
    expect(() => parseShoutcast2Stats('{"songtitle":"x"}')).toThrow(/currentlisteners/);
    expect(() => parseShoutcast2Stats('[1,2]')).toThrow(/object/);
  });
});

describe('parseIcecastStats (/status-json.xsl)', () => {
  it('reads a single mount (source is an object), title with commas', () => {
    expect(parseIcecastStats(fixture('icecast-status-one-mount.json'), '/live')).toEqual({
      listeners: 17,
      bitrateKbps: 128,
      currentTrack: 'Moderat - A New Error, Live, 2013',
      contentType: 'audio/mpeg',
    });
  });

  it('picks the mount by listenurl path when source is an array', () => {
    const body = fixture('icecast-status-two-mounts.json');
    expect(parseIcecastStats(body, '/main')).toEqual({
      listeners: 64,
      bitrateKbps: 256, // from audio_info: there is no "bitrate" field
      currentTrack: null,
      contentType: 'audio/aac',
    });
    expect(parseIcecastStats(body, '/backup.ogg')).toEqual({
      listeners: 2,
      bitrateKbps: null,
      currentTrack: 'Underworld - Born Slippy, Nuxx',
      contentType: 'application/ogg',
    });
  });

  it("matches on the path only: listenurl carries Icecast's own hostname", () => {
    // listenurl says stream.example.com:8000; the relay may reach it as 10.0.0.5:80.
    expect(parseIcecastStats(fixture('icecast-status-one-mount.json'), 'live')?.listeners).toBe(17);
    expect(parseIcecastStats(fixture('icecast-status-one-mount.json'), '/live/')?.listeners).toBe(17);
    expect(parseIcecastStats(fixture('icecast-status-one-mount.json'), '/liv')).toBeNull();
  });

  it('returns null when the mount is not live', () => {
    expect(parseIcecastStats(fixture('icecast-status-no-mounts.json'), '/live')).toBeNull();
    expect(parseIcecastStats(fixture('icecast-status-two-mounts.json'), '/other')).toBeNull();
  });

  it('reads what a real Icecast 2.4.4 publishes for an FFmpeg source (no bitrate field)', () => {
    expect(parseIcecastStats(fixture('icecast-2.4.4-ffmpeg-source.json'), '/live')).toEqual({
      listeners: 0,
      bitrateKbps: null,
      currentTrack: "Second 'quoted' title",
      contentType: 'audio/mpeg',
    });
  });

  it('rejects a body that is not Icecast JSON', () => {
    expect(() => parseIcecastStats('<html></html>', '/live')).toThrow(StatsParseError);
    expect(() => parseIcecastStats('{"foo":1}', '/live')).toThrow(/icestats/);
  });
});

describe('parseSourceStats and statsUrlFor', () => {
  it('dispatch on the server kind', () => {
    expect(parseSourceStats('icecast', fixture('icecast-status-one-mount.json'), 'http://h:8000/live')?.listeners).toBe(17);
    expect(parseSourceStats('shoutcast1', fixture('shoutcast1-7.html'), 'http://h:8000/')?.listeners).toBe(12);
    expect(parseSourceStats('shoutcast2', fixture('shoutcast2-stats.json'), 'http://h:8000/stream')?.listeners).toBe(7);
  });

  it("derives each server's stats URL from the stream URL", () => {
    expect(statsUrlFor('icecast', 'https://radio.example.com:8443/live.mp3?x=1')).toBe(
      'https://radio.example.com:8443/status-json.xsl',
    );
    expect(statsUrlFor('shoutcast1', 'http://1.2.3.4:8000/;stream.mp3')).toBe('http://1.2.3.4:8000/7.html');
    expect(statsUrlFor('shoutcast2', 'http://sc.example.com:8000/stream')).toBe('http://sc.example.com:8000/stats?sid=1&json=1');
    expect(statsUrlFor('shoutcast2', 'http://sc.example.com:8000/stream/3/')).toBe(
      'http://sc.example.com:8000/stats?sid=3&json=1',
    );
    expect(statsUrlFor('shoutcast2', 'http://sc.example.com:8000/;?sid=2')).toBe('http://sc.example.com:8000/stats?sid=2&json=1');
  });
});
