// Uploads and playlists for the CLI: checking the local file before anything
// is sent, streaming it from disk through the SDK's uploads.create, and the
// playlist item helpers the add/remove/create commands share.
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { playlistItemInputs, type DjcastClient, type Playlist, type PlaylistItemInput, type Upload } from '@djcast/sdk';
import { UsageError } from './errors.js';

export type { Playlist, PlaylistItemInput, Upload } from '@djcast/sdk';

/** A local file to upload: exists, is a regular file, is readable. Throws a one-line UsageError (exit 2) otherwise, before anything is sent. */
export async function checkUploadFile(file: string): Promise<{ path: string; size: number; name: string }> {
  const resolved = path.resolve(file);
  let info;
  try {
    info = await stat(resolved);
  } catch {
    throw new UsageError(`${file}: no such file.`);
  }
  if (!info.isFile()) throw new UsageError(`${file} is not a file.`);
  try {
    await access(resolved, constants.R_OK);
  } catch {
    throw new UsageError(`${file} is not readable.`);
  }
  if (info.size === 0) throw new UsageError(`${file} is empty.`);
  return { path: resolved, size: info.size, name: path.basename(resolved) };
}

/**
 * Sends the file through the SDK, streamed from disk (never read whole);
 * `onBytes` hears the bytes handed to the connection so far. The SDK renews
 * an expired login before sending, and sends the file once.
 */
export function uploadFile(
  client: DjcastClient,
  file: { path: string; size: number; name: string },
  options: { title?: string; onBytes?: (sent: number) => void },
): Promise<Upload> {
  const stream = Readable.toWeb(createReadStream(file.path, { highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>;
  return client.uploads.create(
    { stream, size: file.size, name: file.name },
    {
      title: options.title || undefined,
      contentType: 'audio/mpeg',
      onProgress: options.onBytes ? (sent) => options.onBytes!(sent) : undefined,
    },
  );
}

/** A playlist's items as the inputs that recreate them, in order (for add/remove, which PATCH the whole list). */
export function itemInputs(playlist: Playlist): PlaylistItemInput[] {
  return playlistItemInputs(playlist);
}

/**
 * The --upload and --url flags in the order they were typed: oclif collects
 * each flag into its own array, so the order across the two comes from argv.
 */
export function itemsInArgvOrder(argv: readonly string[]): PlaylistItemInput[] {
  const items: PlaylistItemInput[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(upload|url)(?:=(.*))?$/.exec(arg);
    if (!m) continue;
    const value = m[2] ?? argv[++i];
    if (value === undefined) continue;
    items.push(m[1] === 'upload' ? { upload_id: value } : { url: value });
  }
  return items;
}
