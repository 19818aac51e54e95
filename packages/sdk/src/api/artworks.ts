import type { components } from '../generated/openapi.js';
import { type ApiContext, unwrap } from './context.js';

export type Artwork = components['schemas']['Artwork'];

export interface UploadArtworkOptions {
  /** The file name sent; defaults to `artwork.jpg` or `artwork.png` by `contentType`. */
  filename?: string;
  /** `image/jpeg` or `image/png`; defaults to the Blob's type, else `image/jpeg`. The server checks the bytes whatever it says. */
  contentType?: string;
  signal?: AbortSignal;
}

export function artworksApi({ raw }: ApiContext) {
  return {
    /**
     * Uploads artwork for a stream or playlist page (a JPEG or PNG, square,
     * 300-3000 px, RGB; at most 5 MB, so it is sent whole and may be retried).
     * Set the returned `id` as `artwork_id` on a stream or playlist. A refused
     * image is a DjcastApiError 422 whose `rule` names the rule it breaks.
     */
    upload: (file: Blob | Uint8Array, options: UploadArtworkOptions = {}): Promise<Artwork> => {
      const type = options.contentType || (file instanceof Blob && file.type) || 'image/jpeg';
      const blob = file instanceof Blob ? file : new Blob([file as Uint8Array<ArrayBuffer>], { type });
      const filename = options.filename ?? `artwork.${type === 'image/png' ? 'png' : 'jpg'}`;
      return unwrap(
        raw.POST('/v1/artworks', {
          // The typed body is `{ file: string }`; the serializer sends the real form.
          body: { file: '' },
          bodySerializer: () => {
            const form = new FormData();
            form.append('file', new Blob([blob], { type }), filename);
            return form;
          },
          signal: options.signal,
        }),
      );
    },
  };
}
