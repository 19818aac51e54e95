import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Job, JobQueue } from './queue.js';

export interface JobContext {
  job: Job;
  signal: AbortSignal;
  /** Keep the lease alive during long work (transcodes). */
  extendLease(): Promise<void>;
}

export type JobHandler = (payload: never, context: JobContext) => Promise<void>;

export interface WorkerOptions {
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  retryBaseMs?: number;
  workerId?: string;
}

/** Claims due jobs and runs their handlers, `concurrency` at a time; stop() waits for running ones. */
export class JobWorker {
  readonly workerId: string;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private running = new Set<Promise<void>>();
  private stopping = false;
  private abort = new AbortController();
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, JobHandler>,
    private readonly logger: Logger,
    options: WorkerOptions = {},
  ) {
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.concurrency = options.concurrency ?? 2;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.retryBaseMs = options.retryBaseMs ?? 2_000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Nudges the loop to look for work now (after an enqueue in this process). */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  private async run(): Promise<void> {
    const kinds = Object.keys(this.handlers);
    while (!this.stopping) {
      let claimed = false;
      if (this.running.size < this.concurrency) {
        try {
          const job = await this.queue.claim(this.workerId, kinds, this.leaseMs);
          if (job) {
            claimed = true;
            const task = this.execute(job).finally(() => {
              this.running.delete(task);
              this.wake?.();
            });
            this.running.add(task);
          }
        } catch (error) {
          this.logger.error({ event: 'jobs.claim_failed', err: error }, 'could not claim a job');
        }
      }
      if (!claimed || this.running.size >= this.concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private async execute(job: Job): Promise<void> {
    const handler = this.handlers[job.kind]!;
    const log = this.logger.child({ job_id: job.id, job_kind: job.kind, attempt: job.attempts });
    const started = performance.now();
    log.info({ event: 'job.started' }, 'job started');
    try {
      await handler(job.payload as never, {
        job,
        signal: this.abort.signal,
        extendLease: async () => {
          await this.queue.extendLease(job.id, this.workerId, this.leaseMs);
        },
      });
      await this.queue.complete(job.id, this.workerId);
      log.info({ event: 'job.completed', duration_ms: Math.round(performance.now() - started) }, 'job completed');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retryIn = this.retryBaseMs * 2 ** Math.max(0, job.attempts - 1);
      const outcome = await this.queue.fail(job, this.workerId, message, retryIn);
      log.warn({ event: `job.${outcome}`, err: error, retry_in_ms: outcome === 'retrying' ? retryIn : undefined }, `job ${outcome}`);
    }
  }
}
