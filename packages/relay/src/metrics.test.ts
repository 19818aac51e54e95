import { describe, expect, it } from 'vitest';
import { createRelayMetrics } from './metrics.js';

describe('relay metrics', () => {
  it('exposes every relay series labelled with the stream id from the first scrape', async () => {
    const m = createRelayMetrics('str_abc');
    const text = await m.registry.metrics();
    for (const series of [
      'relay_listener_count',
      'cpu_usage_percent',
      'relay_segments_published_total',
      'relay_source_restarts_total',
      'relay_ad_break_failures_total',
      'relay_ad_break_adfree_missing_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${series}\\{stream_id="str_abc"\\} 0$`, 'm'));
    }
    expect(text).toContain('# TYPE hls_segment_generation_time_seconds histogram');
  });

  it('counts ad-break failures and reconnects, and observes segment generation time', async () => {
    const m = createRelayMetrics('str_abc');
    m.adBreakFailures.inc(m.labels);
    m.adBreakFailures.inc(m.labels);
    m.sourceRestarts.inc(m.labels);
    m.segmentGenerationSeconds.observe(m.labels, 0.2);
    m.listenerCount.set(m.labels, 7);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^relay_ad_break_failures_total\{stream_id="str_abc"\} 2$/m);
    expect(text).toMatch(/^relay_source_restarts_total\{stream_id="str_abc"\} 1$/m);
    expect(text).toMatch(/^hls_segment_generation_time_seconds_count\{stream_id="str_abc"\} 1$/m);
    expect(text).toMatch(/^relay_listener_count\{stream_id="str_abc"\} 7$/m);
  });
});
