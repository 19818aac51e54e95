import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TranscodeError, type Transcoder } from './adapters/transcoder/types.js';

/** One registry per app instance, so tests can build many apps side by side. */
export function createMetrics(opts: { poolUsage: () => number; defaultMetrics?: boolean }) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'db_connection_pool_usage',
    help: 'Fraction of the database connection pool in use (0-1)',
    registers: [registry],
    collect() {
      this.set(opts.poolUsage());
    },
  });
  const transcodeDuration = new Histogram({
    name: 'transcode_duration_seconds',
    help: 'Wall time of one audio-to-HLS transcode, by outcome (ok, or the TranscodeError code)',
    labelNames: ['outcome'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, transcodeDuration };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The transcoder, timed: every toHls call lands in transcode_duration_seconds, failures by their code. */
export function timedTranscoder(inner: Transcoder, histogram: Metrics['transcodeDuration']): Transcoder {
  return {
    kind: inner.kind,
    async toHls(input, outDir, opts) {
      const end = histogram.startTimer();
      try {
        const result = await inner.toHls(input, outDir, opts);
        end({ outcome: 'ok' });
        return result;
      } catch (error) {
        end({ outcome: error instanceof TranscodeError ? error.code : 'error' });
        throw error;
      }
    },
  };
}
