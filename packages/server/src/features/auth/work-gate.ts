/** The gate is full: the caller should come back later instead of waiting in line. */
export class GateFull extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too much password work in flight');
    this.name = 'GateFull';
  }
}

export interface WorkGateOptions {
  /** Tasks that may run at once (password hashing: one per core). */
  concurrency: number;
  /** Tasks that may wait for a slot; one more is refused with GateFull at once. */
  maxQueue: number;
  /** Retry-After given with GateFull. */
  retryAfterSeconds: number;
}

/**
 * A counting semaphore with a bounded FIFO line. Argon2 runs on libuv's thread pool; left
 * unbounded, a login storm fills every pool thread and core, and the event loop (health checks,
 * every other request) starves. Bounding the line turns overload into fast 503s, not hangs.
 */
export class WorkGate {
  private active = 0;
  private started = 0;
  private refused = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: WorkGateOptions) {
    if (!(options.concurrency >= 1) || !(options.maxQueue >= 0)) throw new RangeError('concurrency >= 1 and maxQueue >= 0');
  }

  /** Tasks running and waiting now, started and refused since creation. */
  get stats(): { active: number; waiting: number; started: number; refused: number } {
    return { active: this.active, waiting: this.waiting.length, started: this.started, refused: this.refused };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.options.concurrency) {
      if (this.waiting.length >= this.options.maxQueue) {
        this.refused += 1;
        throw new GateFull(this.options.retryAfterSeconds);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    this.started += 1;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next in line, so a newcomer cannot jump the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
