import { Gauge, type Registry } from 'prom-client';
import type { RelayMetricRow } from './service.js';

/**
 * Relay gauges, filled from the database at scrape time: heartbeats land on
 * whichever API replica the load balancer picks, so reading the shared rows
 * lets every replica report every relay, and a deleted stream's series
 * disappears with it. The alert on silent relays uses
 * relay_last_heartbeat_timestamp_seconds.
 */
export function registerRelayMetrics(registry: Registry, rows: () => Promise<RelayMetricRow[]>): void {
  let pending: Promise<RelayMetricRow[]> | null = null;
  // One query per scrape, shared by the three gauges.
  const snapshot = () => {
    pending ??= rows().finally(() => setTimeout(() => (pending = null), 0));
    return pending;
  };

  new Gauge({
    name: 'relay_listener_count',
    help: 'Listeners of a live stream: recent HLS sessions plus listeners connected to the source directly',
    labelNames: ['stream_id'] as const,
    registers: [registry],
    async collect() {
      const data = await snapshot();
      this.reset();
      for (const r of data) this.set({ stream_id: r.streamId }, r.listeners);
    },
  });

  new Gauge({
    name: 'relay_cpu_usage_percent',
    help: 'CPU used by a relay worker and its FFmpeg, percent of one core, as last reported',
    labelNames: ['stream_id'] as const,
    registers: [registry],
    async collect() {
      const data = await snapshot();
      this.reset();
      for (const r of data) if (r.cpuUsage !== null) this.set({ stream_id: r.streamId }, r.cpuUsage);
    },
  });

  new Gauge({
    name: 'relay_last_heartbeat_timestamp_seconds',
    help: 'Unix time of the last heartbeat from a relay worker',
    labelNames: ['stream_id', 'relay_id'] as const,
    registers: [registry],
    async collect() {
      const data = await snapshot();
      this.reset();
      for (const r of data) {
        if (r.lastHeartbeatSeconds !== null) this.set({ stream_id: r.streamId, relay_id: r.relayId }, r.lastHeartbeatSeconds);
      }
    },
  });
}
