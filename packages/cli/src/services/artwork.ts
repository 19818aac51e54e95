// --artwork FILE on stream and playlist commands: the image is checked to be
// a readable local file, uploaded through the SDK, and its id set on the
// resource. The server checks the image itself (JPEG or PNG, square, 300-3000 px).
import { readFile } from 'node:fs/promises';
import type { Artwork, DjcastClient } from '@djcast/sdk';
import { UsageError } from './errors.js';
import { checkUploadFile } from './media.js';

/** Page artwork is at most 5 MB: refused here before anything is sent. */
const MAX_ARTWORK_BYTES = 5 * 1024 * 1024;

export async function uploadArtworkFile(client: DjcastClient, file: string): Promise<Artwork> {
  const checked = await checkUploadFile(file);
  if (checked.size > MAX_ARTWORK_BYTES) throw new UsageError(`${file} is ${checked.size} bytes; artwork is limited to 5 MB.`);
  const bytes = await readFile(checked.path);
  const png = bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  return client.artworks.upload(new Uint8Array(bytes), { filename: checked.name, contentType: png ? 'image/png' : 'image/jpeg' });
}
