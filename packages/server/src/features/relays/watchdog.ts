import type { Logger } from '../../logger.js';
import type { RelaysService } from './service.js';

/**
 * Runs inside every API server: each interval it asks the relays service to
 * restart workers that went silent. Claims are atomic in the database, so
 * several replicas running watchdogs restart (and mail) once per stall.
 */
export class RelayWatchdog {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly relays: RelaysService,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass; returns the relays it restarted. */
  async tick(): Promise<string[]> {
    try {
      return await this.relays.restartSilentRelays();
    } catch (error) {
      this.logger.error({ event: 'relay.watchdog_failed', err: error }, 'relay watchdog pass failed');
      return [];
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
