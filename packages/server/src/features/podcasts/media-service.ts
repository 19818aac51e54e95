// The counting redirect behind every enclosure URL (the way podcast hosts'
// prefix URLs work): it checks the signature of a monetized or private
// podcast's enclosure, records the request for analytics (address, user
// agent, range), then redirects to the object store (presigned on S3), to
// the external host, or serves the local file with Range support.

import { randomUUID } from 'node:crypto';
import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely } from 'kysely';
import { DomainError, NotFound } from '../../core/errors.js';
import { nowIso } from '../../db/create-db.js';
import type { Database } from '../../db/tables.js';
import { playbackCaching } from '../../http/playback-policy.js';
import { parseRangeHeader } from '../../media/mp3-concat.js';
import type { MediaAnswer } from '../uploads/blob-response.js';
import type { UploadsService } from '../uploads/service.js';
import { ENCLOSURE_TTL_SECONDS, type EnclosureSigner } from './enclosure-signing.js';
import * as repo from './repository.js';
import { assertSubscribed, type PodcastPaywall } from './service.js';

export interface EpisodeMediaDeps {
  db: Kysely<Database>;
  store: BlobStore;
  uploads: UploadsService;
  signer: EnclosureSigner;
  clock: () => Date;
  paywall?: PodcastPaywall | undefined;
}

export interface MediaRequest {
  podcastId: string;
  episodeId: string;
  signature: { exp?: string | undefined; sig?: string | undefined; u?: string | undefined };
  address: string;
  userAgent: string | undefined;
  range: string | undefined;
  head: boolean;
}

/** How long the local file may be kept by a player's cache (the media can be replaced under the same URL). */
const MEDIA_MAX_AGE_SECONDS = 3600;

export class EpisodeMediaService {
  constructor(private readonly deps: EpisodeMediaDeps) {}

  async serve(req: MediaRequest): Promise<MediaAnswer> {
    const { db, store } = this.deps;
    const episode = await repo.findEpisode(db, req.episodeId);
    const podcast = episode && episode.podcast_id === req.podcastId ? await repo.findPodcast(db, req.podcastId) : undefined;
    if (!episode || !podcast || episode.status !== 'published') throw new NotFound('Episode', req.episodeId);
    const open = podcast.visibility === 'public' && podcast.monetization_enabled === 0;
    let userId: string | null = null;
    if (!open) {
      const check = this.deps.signer.check(episode.id, req.signature);
      if (check === 'missing') {
        await assertSubscribed(this.deps.paywall, null, podcast);
        throw new DomainError(
          podcast.monetization_enabled ? 'subscription_required' : 'forbidden',
          'This episode is for subscribers: use the enclosure URL from your feed.',
          { resource_id: podcast.id },
        );
      }
      if (check === 'expired')
        throw new DomainError('forbidden', 'This episode link has expired; refresh the feed for a new one.', {
          reason: 'expired',
        });
      if (check === 'invalid')
        throw new DomainError('forbidden', 'This episode link is not valid.', { reason: 'invalid_signature' });
      userId = req.signature.u ?? null;
      // A monetized episode plays for its listener's standing subscription (a cancellation closes it at once),
      // never for a signature alone: the public feed's enclosures carry no listener.
      await assertSubscribed(this.deps.paywall, userId, podcast);
    }
    if (!req.head) {
      await repo.insertDownload(db, {
        id: randomUUID(),
        episode_id: episode.id,
        podcast_id: podcast.id,
        user_id: userId,
        address: req.address.slice(0, 64),
        user_agent: req.userAgent?.slice(0, 500) ?? null,
        range: req.range?.slice(0, 100) ?? null,
        created_at: nowIso(this.deps.clock()),
      });
    }
    const audience = { open };
    if (episode.media_url) {
      return {
        status: 302,
        headers: { Location: episode.media_url, 'Cache-Control': playbackCaching.presignedRedirect() },
        body: null,
      };
    }
    const track = (await this.deps.uploads.tracks([episode.upload_id!])).get(episode.upload_id!);
    if (!track) throw new NotFound('Episode media', episode.id);
    const presigned = await store.presignedGetUrl(track.originalKey, ENCLOSURE_TTL_SECONDS);
    if (presigned) {
      return { status: 302, headers: { Location: presigned, 'Cache-Control': playbackCaching.presignedRedirect() }, body: null };
    }
    const head = await store.head(track.originalKey);
    if (!head) throw new NotFound('Episode media', episode.id);
    const base = {
      'Content-Type': episode.media_type,
      'Accept-Ranges': 'bytes',
      'Cache-Control': playbackCaching.document(audience, MEDIA_MAX_AGE_SECONDS),
    };
    const range = parseRangeHeader(req.range, head.size);
    if (range.kind === 'unsatisfiable') {
      throw new DomainError('range_not_satisfiable', range.reason, { headers: { 'Content-Range': range.contentRange } });
    }
    if (range.kind === 'partial') {
      const object = req.head ? null : await store.get(track.originalKey, { start: range.start, end: range.end });
      return {
        status: 206,
        headers: { ...base, 'Content-Range': range.contentRange, 'Content-Length': String(range.contentLength) },
        body: object?.body ?? null,
      };
    }
    const object = req.head ? null : await store.get(track.originalKey);
    return { status: 200, headers: { ...base, 'Content-Length': String(head.size) }, body: object?.body ?? null };
  }
}
