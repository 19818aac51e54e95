import { z } from 'zod';
import { jobType } from '../../jobs/definition.js';

/** Folds raw analytics rows into daily aggregates, then queues the next fold. */
export const FOLD_ANALYTICS = jobType({ kind: 'analytics.fold', payload: z.object({}).strict(), maxAttempts: 3 });
