// A job is declared once, by the feature that owns it: its kind, the zod
// schema of its payload, how many attempts it gets, what it does, which
// failures no retry will fix, and what happens when it finally fails.
// Features enqueue with the type (kind + schema) and register the handler
// half in their module, so the service that enqueues needs no handler.

import type { z } from 'zod';
import type { Logger } from '../logger.js';

/** What a caller needs to enqueue a job: its kind, payload schema and attempt budget. */
export interface JobType<P> {
  readonly kind: string;
  readonly payload: z.ZodType<P>;
  /** Attempts before the job is given up (default 5). */
  readonly maxAttempts?: number;
}

export interface JobContext {
  readonly jobId: string;
  /** 1 on the first run. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /**
   * Aborted when the job must stop at once: the worker is shutting down, the
   * job was cancelled (its row deleted), or its lease could not be renewed
   * (another worker may own it now). `signal.reason` is a JobInterrupted.
   */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** The handler half of a job, registered with the worker by the owning feature's module. */
export interface JobHandler<P> {
  run(payload: P, ctx: JobContext): Promise<void>;
  /** Failures a retry will not fix: the job goes straight to onFinalFailure. Default: none. */
  isPermanent?(error: unknown): boolean;
  /** After the last attempt (or a permanent failure): record the outcome on the job's row. */
  onFinalFailure?(payload: P, error: unknown, ctx: JobContext): Promise<void>;
}

export interface JobDefinition<P> extends JobType<P>, JobHandler<P> {}

export function jobType<P>(type: JobType<P>): JobType<P> {
  return type;
}

export function defineJob<P>(type: JobType<P>, handler: JobHandler<P>): JobDefinition<P> {
  return { ...type, ...handler };
}

export type InterruptReason = 'shutdown' | 'cancelled' | 'lease_lost';

/** The reason a job's signal was aborted with. */
export class JobInterrupted extends Error {
  override readonly name = 'AbortError';
  constructor(readonly reason: InterruptReason) {
    super(
      reason === 'shutdown'
        ? 'the worker is shutting down'
        : reason === 'cancelled'
          ? 'the job was cancelled'
          : 'the job lease could not be renewed; another worker may run it',
    );
  }
}
