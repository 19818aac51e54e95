import { z } from 'zod';
import { defineJob, jobType, type JobDefinition } from '../../jobs/definition.js';
import type { ArchivesService } from './service.js';

const ArchivePayload = z.object({ archive_id: z.string().regex(/^arc_[0-9a-z]{26}$/) });
type ArchivePayload = z.infer<typeof ArchivePayload>;
const PurgePayload = z.object({ podcast_id: z.string().regex(/^pod_[0-9a-z]{26}$/), remove_prefix: z.string().optional() });
type PurgePayload = z.infer<typeof PurgePayload>;

/** Joins a finished live set's segments into one MP3 and stores it as an upload. */
export const JOIN_SET = jobType({ kind: 'archive.join_set', payload: ArchivePayload, maxAttempts: 5 });
/** Makes the episode once the joined MP3's upload is ready. */
export const MAKE_EPISODE = jobType({ kind: 'archive.make_episode', payload: ArchivePayload, maxAttempts: 5 });
/** Tells the CDN a feed changed, after the transaction that changed it committed (and removes a discarded set's segments). */
export const PURGE_FEED = jobType({ kind: 'archive.purge_feed', payload: PurgePayload, maxAttempts: 5 });

/** A refusal of the joined MP3 (too long for an upload, not MP3) no retry will fix. */
const isPermanent = (error: unknown) =>
  typeof error === 'object' && error !== null && 'status' in error && (error as { status: number }).status < 500;

export function archiveJobs(archives: ArchivesService): JobDefinition<any>[] {
  return [
    defineJob<ArchivePayload>(JOIN_SET, {
      run: (payload, ctx) => archives.joinSet(payload.archive_id, ctx),
      isPermanent,
      onFinalFailure: (payload, error) =>
        archives.failById(payload.archive_id, `Joining the set failed: ${(error as Error).message}`),
    }),
    defineJob<ArchivePayload>(MAKE_EPISODE, {
      run: (payload, ctx) => archives.makeEpisode(payload.archive_id, ctx),
      isPermanent,
      onFinalFailure: (payload, error) =>
        archives.failById(payload.archive_id, `Making the episode failed: ${(error as Error).message}`),
    }),
    defineJob<PurgePayload>(PURGE_FEED, {
      run: (payload) => archives.purgeFeed(payload.podcast_id, payload.remove_prefix),
    }),
  ];
}
