import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TranscodeError, type Transcoder } from './adapters/transcoder/types.js';

/** One registry per app instance, so tests can build many apps side by side. */
export function createMetrics(opts: { poolUsage: () => number; defaultMetrics?: boolean }) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const http = new HttpRequestMetrics(registry);
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
  return { registry, http, transcodeDuration };
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

/** The latency buckets of http_request_duration_seconds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

type HttpLabels = { method: string; route: string; status_code: string };
/** One line of the exposition, as the registry reads it from a metric's `get()`. */
type ExpositionValue = { labels: Record<string, string | number>; value: number; metricName?: string };

interface HttpSeries {
  labels: HttpLabels;
  count: number;
  sum: number;
  /** Per bucket, not cumulative: observations above the previous bound and at most this one. */
  buckets: number[];
}

/**
 * `http_requests_total` and `http_request_duration_seconds`, by method, route and status code,
 * counted on every request. prom-client's Counter and Histogram hash the label object on each
 * `inc` and `observe` (sorting its keys into a string), twice a request; here a request costs one
 * string key and one Map lookup, and the exposition is built only when scraped. The text is
 * what prom-client writes for the same two metrics (the registry formats both).
 */
export class HttpRequestMetrics {
  private readonly series = new Map<string, HttpSeries>();

  constructor(registry: Registry) {
    registry.registerMetric(
      this.view('http_requests_total', 'HTTP requests served, by method, route and status code', 'counter', (s) => [
        { labels: s.labels, value: s.count },
      ]) as never,
    );
    registry.registerMetric(
      this.view(
        'http_request_duration_seconds',
        'HTTP request latency in seconds, by method, route and status code',
        'histogram',
        (s) => {
          const name = 'http_request_duration_seconds';
          const values: ExpositionValue[] = [];
          let cumulative = 0;
          HTTP_DURATION_BUCKETS.forEach((le, i) => {
            cumulative += s.buckets[i] ?? 0;
            values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${name}_bucket` });
          });
          values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${name}_bucket` });
          values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
          values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
          return values;
        },
      ) as never,
    );
  }

  /** Counts one answered request and its latency. */
  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${status} ${method} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: { method, route, status_code: String(status) },
        count: 0,
        sum: 0,
        buckets: HTTP_DURATION_BUCKETS.map(() => 0),
      };
      this.series.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    for (let i = 0; i < HTTP_DURATION_BUCKETS.length; i++) {
      if (seconds <= HTTP_DURATION_BUCKETS[i]!) {
        s.buckets[i]!++;
        break;
      }
    }
  }

  /** What the registry asks a metric for: its name, help, type and values (and `reset` for resetMetrics). */
  private view(name: string, help: string, type: 'counter' | 'histogram', values: (s: HttpSeries) => ExpositionValue[]) {
    return {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({
        name,
        help,
        type,
        aggregator: 'sum',
        values: [...this.series.values()].flatMap(values),
      }),
      reset: () => this.series.clear(),
    };
  }
}
