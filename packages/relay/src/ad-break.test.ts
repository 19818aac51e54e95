import { describe, expect, it } from 'vitest';
import { type AdFrameResult, type AdFrameSource, InputSwitch, type InputSwitchEvent } from './ad-break.js';
import { adUrlFor } from './heartbeat.js';
import { MpegFrameSplitter, parseMpegHeader } from './mp3-frames.js';

/** One MPEG-1 layer III frame, 128 kb/s: 417 bytes at 44.1 kHz, 384 at 48 kHz; the body is `fill`. */
function frame(fill: number, sampleRate: 44100 | 48000 = 44100): Buffer {
  const header = Buffer.from([0xff, 0xfb, sampleRate === 44100 ? 0x90 : 0x94, 0x00]);
  const length = parseMpegHeader(header)!.length;
  return Buffer.concat([header, Buffer.alloc(length - 4, fill)]);
}
const FRAME_SECONDS = 1152 / 44100;

/** The fill byte of each frame in an FFmpeg input (S: source, A: ad). */
function fills(bytes: Buffer): string {
  const out: string[] = [];
  const splitter = new MpegFrameSplitter();
  for (const piece of [...splitter.push(bytes), ...splitter.end()]) {
    if ('frame' in piece) out.push(piece.frame.bytes[10] === 0x53 ? 'S' : 'A');
    else out.push('?');
  }
  return out.join('');
}

class FakeAd implements AdFrameSource {
  closed = false;
  constructor(private readonly script: AdFrameResult[]) {}
  next(): AdFrameResult {
    return this.script.shift() ?? { end: true };
  }
  close(): void {
    this.closed = true;
  }
}

const S = () => frame(0x53);
const A = (rate: 44100 | 48000 = 44100) => ({ frame: { bytes: frame(0x41, rate), header: parseMpegHeader(frame(0x41, rate))! } });

function feed(sw: InputSwitch, frames: number, chunk = 100): Buffer {
  const source = Buffer.concat(Array.from({ length: frames }, S));
  const out: Buffer[] = [];
  for (let i = 0; i < source.length; i += chunk) out.push(sw.push(source.subarray(i, i + chunk)));
  return Buffer.concat(out);
}

describe('MpegFrameSplitter', () => {
  it('cuts any chunking into whole frames and passes loose bytes on', () => {
    const bytes = Buffer.concat([Buffer.from('ID3junk'), S(), S(), S()]);
    const splitter = new MpegFrameSplitter();
    const pieces = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(...splitter.push(bytes.subarray(i, i + 7)));
    pieces.push(...splitter.end());
    expect(Buffer.concat(pieces.map((p) => ('frame' in p ? p.frame.bytes : p.other)))).toEqual(bytes);
    expect(pieces.filter((p) => 'frame' in p)).toHaveLength(3);
  });
});

describe('InputSwitch', () => {
  it('swaps source frames one for one with ad frames at frame boundaries, then returns to the source', () => {
    const events: InputSwitchEvent[] = [];
    const sw = new InputSwitch((e) => events.push(e));
    const before = feed(sw, 4);
    const ad = new FakeAd(Array.from({ length: 10 }, () => A()));
    expect(sw.start({ id: 'brk_1', adId: 'adm_1', durationSeconds: 3 * FRAME_SECONDS, ad })).toBeNull();
    const during = feed(sw, 6, 333);
    // 4 source frames written; the splitter holds back the 4th until the 5th shows it is a frame.
    expect(fills(Buffer.concat([before, during, sw.push(Buffer.alloc(0))]))).toMatch(/^SSSSAAASS/);
    expect(events.map((e) => e.type)).toEqual(['ad_started', 'ad_ended']);
    expect(events[0]!.atSeconds).toBeCloseTo(4 * FRAME_SECONDS, 6);
    expect(events[1]).toMatchObject({ outcome: 'completed', breakId: 'brk_1', adId: 'adm_1' });
    expect(events[1]!.atSeconds).toBeCloseTo(7 * FRAME_SECONDS, 6);
    expect(ad.closed).toBe(true);
    // The input timeline counts every frame written, ad or source.
    expect(sw.inputSeconds).toBeGreaterThanOrEqual(9 * FRAME_SECONDS - 1e-9);
  });

  it('hands each source frame a break replaces to the clean sink, in order, before the break ends', () => {
    const log: string[] = [];
    const sw = new InputSwitch(
      (e) => log.push(e.type),
      (breakId, f) => log.push(`${breakId}:${fills(f)}`),
    );
    feed(sw, 3);
    sw.start({ id: 'brk_c', adId: null, durationSeconds: 2 * FRAME_SECONDS, ad: new FakeAd([A(), A(), A()]) });
    feed(sw, 5);
    expect(log).toEqual(['ad_started', 'brk_c:S', 'brk_c:S', 'ad_ended']);
  });

  it('goes back to the source at once when the ad fails mid-break', () => {
    const events: InputSwitchEvent[] = [];
    const sw = new InputSwitch((e) => events.push(e));
    feed(sw, 3);
    const ad = new FakeAd([A(), A(), { failed: "the ad's connection failed" }, A()]);
    sw.start({ id: 'brk_2', adId: null, durationSeconds: 60, ad });
    const out = feed(sw, 6);
    expect(fills(out)).toMatch(/^S*AASSS/);
    const ended = events.find((e) => e.type === 'ad_ended');
    expect(ended).toMatchObject({ outcome: 'failed', reason: "the ad's connection failed" });
    expect(ended!.type === 'ad_ended' && ended!.playedSeconds).toBeCloseTo(2 * FRAME_SECONDS, 6);
  });

  it('refuses an ad whose sample rate differs, and a break before any MPEG audio', () => {
    const events: InputSwitchEvent[] = [];
    const sw = new InputSwitch((e) => events.push(e));
    expect(sw.start({ id: 'brk_0', adId: null, durationSeconds: 5, ad: new FakeAd([]) })).toMatch(/not MPEG audio/);
    feed(sw, 3);
    sw.start({ id: 'brk_3', adId: null, durationSeconds: 5, ad: new FakeAd([A(48000)]) });
    expect(fills(feed(sw, 3))).not.toContain('A');
    expect(events.at(-1)).toMatchObject({
      type: 'ad_ended',
      outcome: 'failed',
      reason: 'the ad is 48000 Hz and the source 44100 Hz',
    });
  });

  it('ends early when the ad runs out, and takes one break at a time', () => {
    const events: InputSwitchEvent[] = [];
    const sw = new InputSwitch((e) => events.push(e));
    feed(sw, 2);
    sw.start({ id: 'brk_4', adId: null, durationSeconds: 60, ad: new FakeAd([A(), A()]) });
    expect(sw.start({ id: 'brk_5', adId: null, durationSeconds: 60, ad: new FakeAd([]) })).toMatch(/another/);
    expect(fills(feed(sw, 6))).toMatch(/^S*AASS/);
    expect(events.at(-1)).toMatchObject({ type: 'ad_ended', outcome: 'completed' });
    expect(sw.busy).toBe(false);
  });
});

describe('a 48 kHz source', () => {
  const S48 = () => frame(0x53, 48000);

  it('reports the source sample rate once a frame has passed, and plays a 48 kHz ad frame for frame', () => {
    const events: InputSwitchEvent[] = [];
    const sw = new InputSwitch((e) => events.push(e));
    expect(sw.sourceSampleRate).toBeNull();
    // The splitter holds a frame back until the next one's header shows it is a frame.
    const before = sw.push(Buffer.concat([S48(), S48()]));
    expect(sw.sourceSampleRate).toBe(48000);
    const ad = new FakeAd([A(48000), A(48000)]);
    expect(sw.start({ id: 'brk_48', adId: null, durationSeconds: 2 * (1152 / 48000), ad })).toBeNull();
    const out = sw.push(Buffer.concat([S48(), S48(), S48()]));
    expect(fills(Buffer.concat([before, out]))).toBe('SSAAS');
    expect(events.map((e) => (e.type === 'ad_ended' ? `${e.type}:${e.outcome}` : e.type))).toEqual([
      'ad_started',
      'ad_ended:completed',
    ]);
  });

  it('fails a 44.1 kHz ad at once and keeps the source', () => {
    const events: InputSwitchEvent[] = [];
    const sw = new InputSwitch((e) => events.push(e));
    const before = sw.push(Buffer.concat([S48(), S48()]));
    expect(sw.start({ id: 'brk_441', adId: null, durationSeconds: 1, ad: new FakeAd([A(44100)]) })).toBeNull();
    expect(fills(Buffer.concat([before, sw.push(Buffer.concat([S48(), S48()]))]))).toBe('SSSS');
    const ended = events.find((e) => e.type === 'ad_ended');
    expect(ended).toMatchObject({ outcome: 'failed', reason: 'the ad is 44100 Hz and the source 48000 Hz' });
  });
});

describe('adUrlFor', () => {
  const order = {
    url: '/v1/ad-breaks/brk_x/audio?exp=1&sig=a',
    variants: [
      { sample_rate: 48000, url: '/v1/ad-breaks/brk_x/audio?rate=48000&exp=1&sig=b' },
      { sample_rate: 32000, url: 'https://s3.example/ads/adr_32/ad.mp3?X-Amz-Signature=c' },
    ],
  };

  it('picks the variant of the source rate, else the 44.1 kHz url', () => {
    expect(adUrlFor(order, 48000)).toBe(order.variants[0]!.url);
    expect(adUrlFor(order, 32000)).toBe(order.variants[1]!.url);
    expect(adUrlFor(order, 44100)).toBe(order.url);
    expect(adUrlFor(order, 22050)).toBe(order.url);
    expect(adUrlFor(order, null)).toBe(order.url);
    expect(adUrlFor({ url: order.url }, 48000)).toBe(order.url);
    // An older or odd receipt: variants that are not a list are ignored.
    expect(adUrlFor({ url: order.url, variants: 'nope' as never }, 48000)).toBe(order.url);
  });
});
