import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The worker's own Prometheus registry (not the global one, so several workers can live in one process in tests). */
export function createRelayMetrics(streamId: string) {
  const registry = new Registry();
  const labels = { stream_id: streamId };
  const listenerCount = new Gauge({
    name: 'relay_listener_count',
    help: 'Listeners at the source for the relayed mount, djcast relay connections excluded',
    labelNames: ['stream_id'],
    registers: [registry],
  });
  const segmentGenerationSeconds = new Histogram({
    name: 'hls_segment_generation_time_seconds',
    help: 'Time from FFmpeg finishing a segment to the playlist naming it being published (read, upload, playlist write)',
    labelNames: ['stream_id'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
    registers: [registry],
  });
  const cpuUsagePercent = new Gauge({
    name: 'cpu_usage_percent',
    help: 'CPU used by the relay worker and its FFmpeg, percent of one core',
    labelNames: ['stream_id'],
    registers: [registry],
  });
  const segmentsPublished = new Counter({
    name: 'relay_segments_published_total',
    help: 'HLS segments uploaded and listed in the live playlist',
    labelNames: ['stream_id'],
    registers: [registry],
  });
  const sourceRestarts = new Counter({
    name: 'relay_source_restarts_total',
    help: 'Times FFmpeg was restarted after the source dropped or could not be reached',
    labelNames: ['stream_id'],
    registers: [registry],
  });
  const adBreakFailures = new Counter({
    name: 'relay_ad_break_failures_total',
    help: 'Ad breaks the relay could not insert (the ad could not be fetched, decoded or spliced); the stream went on without it',
    labelNames: ['stream_id'],
    registers: [registry],
  });
  const adFreeMissing = new Counter({
    name: 'relay_ad_break_adfree_missing_total',
    help: 'Ad break segments without a clean twin (its encoder failed or was late): listeners on an ad-free plan heard the ad there',
    labelNames: ['stream_id'],
    registers: [registry],
  });
  // Present from the first scrape, not only after the first event.
  listenerCount.set(labels, 0);
  cpuUsagePercent.set(labels, 0);
  segmentsPublished.inc(labels, 0);
  sourceRestarts.inc(labels, 0);
  adBreakFailures.inc(labels, 0);
  adFreeMissing.inc(labels, 0);
  return {
    registry,
    labels,
    listenerCount,
    segmentGenerationSeconds,
    cpuUsagePercent,
    segmentsPublished,
    /** Reconnects to the source: each FFmpeg restart after the source dropped or could not be reached. */
    sourceRestarts,
    /** Incremented by the ad-insertion code when a break fails. */
    adBreakFailures,
    /** Break segments the ad-free playlist had to list as the ad. */
    adFreeMissing,
  };
}

export type RelayMetrics = ReturnType<typeof createRelayMetrics>;
