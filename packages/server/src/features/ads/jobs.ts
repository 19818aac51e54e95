import { z } from 'zod';
import { defineJob, jobType, type JobDefinition } from '../../jobs/definition.js';
import { NotMp3Error } from '../../media/mp3.js';
import { NormalizeError } from './normalize.js';
import type { AdsService } from './service.js';

const NormalizeAdPayload = z.object({ rendition_id: z.string().regex(/^adr_[0-9a-f]{32}$/) });
export type NormalizeAdPayload = z.infer<typeof NormalizeAdPayload>;

/** Normalizes an ad source once: every marker playing it in this format shares the result. */
export const NORMALIZE_AD = jobType({ kind: 'ads.normalize', payload: NormalizeAdPayload, maxAttempts: 3 });

export function normalizeAdJob(ads: AdsService): JobDefinition<NormalizeAdPayload> {
  return defineJob(NORMALIZE_AD, {
    run: (payload, ctx) => ads.normalize(payload.rendition_id, ctx),
    isPermanent: (error) => error instanceof NormalizeError || error instanceof NotMp3Error,
    onFinalFailure: (payload, error, ctx) =>
      ads.markFailed(payload.rendition_id, error instanceof Error ? error.message.slice(0, 500) : String(error), ctx.logger),
  });
}
