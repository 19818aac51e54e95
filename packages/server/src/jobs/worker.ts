import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.js';
import { JobInterrupted, type InterruptReason, type JobContext, type JobDefinition } from './definition.js';
import type { Job, JobQueue } from './queue.js';

export interface WorkerOptions {
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  /** How often a running job's lease is renewed (default a third of the lease). */
  renewEveryMs?: number;
  retryBaseMs?: number;
  workerId?: string;
}

interface Running {
  job: Job;
  abort: AbortController;
  renewing?: Promise<void>;
}

/**
 * Claims due jobs and runs their handlers, `concurrency` at a time. The
 * worker, not the job, keeps each lease alive; when a renewal fails (the
 * job was cancelled or another worker took it over) the job's signal is
 * aborted, so two workers never keep running one job. stop() aborts the
 * running jobs and waits for them; they are retried by whichever worker
 * claims them next.
 */
export class JobWorker {
  readonly workerId: string;
  private readonly definitions = new Map<string, JobDefinition<unknown>>();
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private readonly retryBaseMs: number;
  private readonly tasks = new Set<Promise<void>>();
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private loop?: Promise<void>;
  private wakeLoop?: () => void;
  private renewTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(
    private readonly queue: JobQueue,
    private readonly logger: Logger,
    options: WorkerOptions = {},
  ) {
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.concurrency = options.concurrency ?? 2;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(200, Math.floor(this.leaseMs / 3));
    this.retryBaseMs = options.retryBaseMs ?? 2_000;
  }

  /** Registered by the feature module that owns the job; one definition per kind. */
  register<P>(definition: JobDefinition<P>): void {
    if (this.definitions.has(definition.kind)) throw new Error(`job kind ${definition.kind} is registered twice`);
    this.definitions.set(definition.kind, definition as JobDefinition<unknown>);
  }

  get kinds(): string[] {
    return [...this.definitions.keys()];
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.unsubscribe = this.queue.onWake(() => this.poke());
    this.renewTimer = setInterval(() => void this.renewAll(), this.renewEveryMs);
    this.loop = this.run();
  }

  /** Look for work and check the running jobs' leases now (after an enqueue or a cancel in this process). */
  poke(): void {
    this.wakeLoop?.();
    void this.renewAll();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.abort.abort(new JobInterrupted('shutdown'));
    this.wakeLoop?.();
    await this.loop;
    await Promise.allSettled([...this.tasks]);
    clearInterval(this.renewTimer);
    this.unsubscribe?.();
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    const kinds = this.kinds;
    while (!this.stopping) {
      let claimed = false;
      if (this.running.size < this.concurrency) {
        try {
          const job = await this.queue.claim(this.workerId, kinds, this.leaseMs);
          if (job && this.stopping) {
            // Claimed while stop() began: hand it back at once (its lease would hold it otherwise).
            await this.queue.fail(job, this.workerId, 'the worker stopped before running it', { final: false, retryInMs: 0 });
          } else if (job) {
            claimed = true;
            const task = this.execute(job).finally(() => {
              this.tasks.delete(task);
              this.wakeLoop?.();
            });
            this.tasks.add(task);
          }
        } catch (error) {
          this.logger.error({ event: 'jobs.claim_failed', err: error }, 'could not claim a job');
        }
      }
      if (this.stopping) break;
      if (!claimed || this.running.size >= this.concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollIntervalMs);
          this.wakeLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** Renews every running job's lease; a job whose renewal fails is aborted. */
  private async renewAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => this.renew(r)));
  }

  private renew(r: Running): Promise<void> {
    if (r.abort.signal.aborted) return Promise.resolve();
    // One renewal at a time per job; a poke during one waits for it.
    r.renewing ??= (async () => {
      let reason: InterruptReason | null = null;
      try {
        if (!(await this.queue.extendLease(r.job.id, this.workerId, this.leaseMs))) {
          const row = await this.queue.get(r.job.id);
          reason = row?.state === 'cancelled' || !row ? 'cancelled' : 'lease_lost';
        }
      } catch (error) {
        // The database did not answer: the lease may run out and another worker take the job.
        this.logger.warn({ event: 'job.lease_renewal_failed', job_id: r.job.id, err: error }, 'could not renew a job lease');
        reason = 'lease_lost';
      } finally {
        r.renewing = undefined;
      }
      if (reason && !r.abort.signal.aborted) r.abort.abort(new JobInterrupted(reason));
    })();
    return r.renewing;
  }

  private async execute(job: Job): Promise<void> {
    const definition = this.definitions.get(job.kind)!;
    const log = this.logger.child({ job_id: job.id, job_kind: job.kind, attempt: job.attempts });
    const abort = new AbortController();
    const entry: Running = { job, abort };
    this.running.set(job.id, entry);
    const ctx: JobContext = {
      jobId: job.id,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      signal: abort.signal,
      logger: log,
    };
    const started = performance.now();
    log.info({ event: 'job.started' }, 'job started');
    let payload: unknown;
    try {
      const parsed = definition.payload.safeParse(job.payload);
      if (!parsed.success) {
        await this.queue.fail(job, this.workerId, `invalid payload: ${parsed.error.message}`, { final: true, retryInMs: 0 });
        log.error({ event: 'job.failed', reason: 'invalid_payload' }, 'job payload does not match its schema');
        return;
      }
      payload = parsed.data;
      await definition.run(payload, ctx);
      if (abort.signal.aborted) throw abort.signal.reason;
      await this.queue.complete(job.id, this.workerId);
      log.info({ event: 'job.completed', duration_ms: Math.round(performance.now() - started) }, 'job completed');
    } catch (error) {
      await this.failed(job, definition, payload, error, ctx, log);
    } finally {
      this.running.delete(job.id);
    }
  }

  private async failed(
    job: Job,
    definition: JobDefinition<unknown>,
    payload: unknown,
    error: unknown,
    ctx: JobContext,
    log: Logger,
  ): Promise<void> {
    const interrupted = ctx.signal.aborted ? (ctx.signal.reason as JobInterrupted) : null;
    if (interrupted && interrupted.reason !== 'shutdown') {
      // Cancelled, or no longer ours: whoever owns the row now decides its fate.
      log.info({ event: `job.${interrupted.reason}` }, interrupted.message);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    try {
      if (interrupted) {
        // Shutting down: another worker resumes it, without a backoff delay.
        await this.queue.fail(job, this.workerId, message, { final: false, retryInMs: 0 });
        log.info({ event: 'job.interrupted' }, 'job interrupted by shutdown; it will be retried');
        return;
      }
      const permanent = definition.isPermanent?.(error) ?? false;
      const final = permanent || job.attempts >= job.maxAttempts;
      if (final && definition.onFinalFailure) {
        try {
          await definition.onFinalFailure(payload, error, ctx);
        } catch (hookError) {
          log.error({ event: 'job.final_failure_hook_failed', err: hookError }, 'recording the failure failed');
        }
      }
      const retryInMs = this.retryBaseMs * 2 ** Math.max(0, job.attempts - 1);
      const outcome = await this.queue.fail(job, this.workerId, message, { final, retryInMs });
      log.warn({ event: `job.${outcome}`, err: error, permanent, retry_in_ms: final ? undefined : retryInMs }, `job ${outcome}`);
    } catch (dbError) {
      log.error({ event: 'job.record_failure_failed', err: dbError }, 'could not record a job failure');
    }
  }
}
