import { z } from 'zod';
import { defineJob, jobType, type JobDefinition } from '../../jobs/definition.js';
import type { PodcastsService } from './service.js';

const PublishEpisodePayload = z.object({ episode_id: z.string().regex(/^epi_[0-9a-z]{26}$/) });
export type PublishEpisodePayload = z.infer<typeof PublishEpisodePayload>;

/** Publishes a scheduled episode when its time comes (enqueued with a delay on the injected clock). */
export const PUBLISH_EPISODE = jobType({ kind: 'podcast.publish_episode', payload: PublishEpisodePayload, maxAttempts: 5 });

export function publishEpisodeJob(podcasts: PodcastsService): JobDefinition<PublishEpisodePayload> {
  return defineJob(PUBLISH_EPISODE, {
    run: (payload) => podcasts.publishScheduled(payload.episode_id),
  });
}
