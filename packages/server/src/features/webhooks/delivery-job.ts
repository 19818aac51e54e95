import { z } from 'zod';
import { jobType } from '../../jobs/definition.js';

/** One attempt to deliver one event to one endpoint; a failed attempt enqueues the next with its backoff. */
export const DELIVER_WEBHOOK = jobType({
  kind: 'webhooks.deliver',
  payload: z.object({ delivery_id: z.string().regex(/^whd_[0-9a-z]{26}$/) }),
  // Each job is one attempt; more runs only happen when a worker died mid-attempt.
  maxAttempts: 3,
});
