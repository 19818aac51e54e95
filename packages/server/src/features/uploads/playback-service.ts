// Playback of one upload's own HLS rendition (the `hls_url` of a ready
// upload): its playlist, with a playback token in every segment URL, and
// the segments. An upload is private to its DJ: the owner's bearer token or
// the signed token in hls_url.

import type { BlobStore } from '@djcast/relay/blob';
import { playbackCaching } from '../../http/playback-policy.js';
import type { PlaybackAuthorizer, PlaybackCredentials } from '../../http/playback.js';
import { NotFound } from '../../core/errors.js';
import { withPlaybackToken } from '../../media/hls-manifest.js';
import { serveBlob, type MediaAnswer } from './blob-response.js';
import { uploadHlsPrefix } from './keys.js';
import { UploadsService } from './service.js';

export interface UploadPlaybackDeps {
  uploads: UploadsService;
  authorizer: PlaybackAuthorizer;
  store: BlobStore;
}

const PRIVATE = { open: false };

export class UploadPlaybackService {
  constructor(private readonly deps: UploadPlaybackDeps) {}

  async hlsFile(req: { id: string; file: string; credentials: PlaybackCredentials; head: boolean }): Promise<MediaAnswer> {
    const { uploads, authorizer, store } = this.deps;
    const upload = await uploads.playable(req.id);
    if (!upload || upload.status !== 'ready') throw new NotFound('Upload', req.id);
    const grant = await authorizer.authorizeCredentials(
      req.credentials,
      { id: req.id, ownerId: upload.ownerId, visibility: 'private', monetized: false },
      'upload',
    );
    const key = `${uploadHlsPrefix(req.id)}${req.file}`;
    if (req.file.endsWith('.m3u8')) {
      const object = await store.get(key);
      if (!object) throw new NotFound('HLS file', req.file);
      const chunks: Buffer[] = [];
      for await (const chunk of object.body) chunks.push(Buffer.from(chunk as Buffer));
      const token = grant.token ?? authorizer.sign(req.id, grant.userId, UploadsService.playbackTokenSeconds).token;
      return {
        status: 200,
        headers: { 'Content-Type': 'application/vnd.apple.mpegurl', 'Cache-Control': playbackCaching.document(PRIVATE, 0) },
        body: withPlaybackToken(Buffer.concat(chunks).toString('utf8'), token),
      };
    }
    const answer = await serveBlob(store, key, playbackCaching.segment(PRIVATE), req.head);
    if (!answer) throw new NotFound('HLS file', req.file);
    return answer;
  }
}
