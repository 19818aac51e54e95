import { describe, expect, it } from 'vitest';
import { addressGroup, countDownloads, isBotAgent, oneMinuteBytes, requestedBytes, type DownloadRequest } from './downloads.js';

const EP = 'epi_01jd0v9m3x7k2p8q4r5s6t7u8v';
// 60 minutes at 128 kbit/s: 16 000 bytes a second, 960 000 bytes a minute.
const sizes = new Map([[EP, { media_bytes: 57_600_000, duration_seconds: 3600 }]]);
const APPLE = 'AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)';
const at = (minutes: number) => new Date(Date.parse('2025-06-01T00:00:00Z') + minutes * 60_000).toISOString();
const req = (over: Partial<DownloadRequest>): DownloadRequest => ({
  episode_id: EP,
  address: '203.0.113.7',
  user_agent: APPLE,
  range: null,
  created_at: at(0),
  ...over,
});

describe('IAB download counting', () => {
  it('counts one download per address + user agent per episode per 24 hours', () => {
    const requests = [req({ created_at: at(0) }), req({ created_at: at(60) }), req({ created_at: at(23 * 60 + 59) })];
    expect(countDownloads(requests, sizes)).toHaveLength(1);
    // 24 hours after the first counted one, the same listener counts again.
    expect(countDownloads([...requests, req({ created_at: at(24 * 60) })], sizes)).toHaveLength(2);
  });

  it('counts a different user agent or address separately', () => {
    const requests = [req({}), req({ user_agent: 'Spotify/8.9.10 iOS/17.4 (iPhone15,2)' }), req({ address: '198.51.100.1' })];
    expect(countDownloads(requests, sizes)).toHaveLength(3);
  });

  it('groups IPv6 addresses by /64: two addresses of one /64 are one listener, another /64 is another', () => {
    expect(addressGroup('2001:db8:1:2:aaaa::1')).toBe(addressGroup('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(addressGroup('2001:db8:1:2::1')).not.toBe(addressGroup('2001:db8:1:3::1'));
    expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
    const requests = [
      req({ address: '2001:db8:1:2::1' }),
      req({ address: '2001:db8:1:2:ffff::9', created_at: at(5) }),
      req({ address: '2001:db8:1:3::1', created_at: at(6) }),
    ];
    expect(countDownloads(requests, sizes)).toHaveLength(2);
  });

  it('counts only once a minute of audio bytes was asked for: probes and short ranges do not count, ranges add up', () => {
    expect(oneMinuteBytes({ media_bytes: 57_600_000, duration_seconds: 3600 })).toBe(960_000);
    expect(countDownloads([req({ range: 'bytes=0-1' })], sizes)).toHaveLength(0);
    expect(countDownloads([req({ range: 'bytes=0-959998' })], sizes)).toHaveLength(0);
    expect(countDownloads([req({ range: 'bytes=0-959999' })], sizes)).toHaveLength(1);
    // Two ranges of half a minute each: counted at the second.
    const split = countDownloads(
      [req({ range: 'bytes=0-479999', created_at: at(0) }), req({ range: 'bytes=480000-959999', created_at: at(1) })],
      sizes,
    );
    expect(split).toEqual([{ episode_id: EP, at: at(1) }]);
    // An open-ended range asks for the rest of the file.
    expect(countDownloads([req({ range: 'bytes=1000000-' })], sizes)).toHaveLength(1);
  });

  it('uses 128 kbit/s when the duration is unknown, and a file shorter than a minute counts when all of it was asked for', () => {
    expect(oneMinuteBytes({ media_bytes: 10_000_000, duration_seconds: null })).toBe(960_000);
    expect(oneMinuteBytes({ media_bytes: 40_000, duration_seconds: null })).toBe(40_000);
    expect(requestedBytes('bytes=-500', 40_000)).toBe(500);
    expect(requestedBytes('bytes=100-199', 40_000)).toBe(100);
    expect(requestedBytes('bytes=39000-99999', 40_000)).toBe(1000);
  });

  it('leaves out known bots and requests without a user agent (the isbot list)', () => {
    expect(isBotAgent('Googlebot/2.1 (+http://www.google.com/bot.html)')).toBe(true);
    expect(isBotAgent('curl/8.5.0')).toBe(true);
    expect(isBotAgent(null)).toBe(true);
    expect(isBotAgent(APPLE)).toBe(false);
    const requests = [req({ user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' }), req({ user_agent: null })];
    expect(countDownloads(requests, sizes)).toHaveLength(0);
  });
});
