// Uploads and playlists for the CLI, over the SDK's typed raw client (the SDK
// has no grouped methods for them yet). The upload streams the file from disk
// as multipart/form-data and reports bytes sent; nothing is read whole.
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DjcastApiError, type components, type DjcastClient } from '@djcast/sdk';
import { UsageError } from './errors.js';

type Schemas = components['schemas'];
export type Upload = Schemas['Upload'];
export type UploadList = Schemas['UploadList'];
export type Playlist = Schemas['Playlist'];
export type PlaylistList = Schemas['PlaylistList'];
export type PlaylistItemInput = Schemas['PlaylistItemInput'];
export type CreatePlaylistRequest = Schemas['CreatePlaylistRequest'];
export type UpdatePlaylistRequest = Schemas['UpdatePlaylistRequest'];

async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw DjcastApiError.fromResponse(response, error);
  return data as T;
}

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

const BOUNDARY = `----djcast${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

function quoteFilename(name: string): string {
  return name.replace(/["\\\r\n]/g, '_');
}

/**
 * The multipart body for one file, as a stream that reads the file as the
 * network takes it, with its exact length. `onBytes` hears the file bytes
 * handed to the connection so far.
 */
export function multipartFileBody(file: { path: string; size: number; name: string }, onBytes: (sent: number) => void) {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${quoteFilename(file.name)}"\r\nContent-Type: audio/mpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  async function* parts() {
    yield head;
    let sent = 0;
    for await (const chunk of createReadStream(file.path, { highWaterMark: 256 * 1024 })) {
      sent += (chunk as Buffer).length;
      onBytes(sent);
      yield chunk as Buffer;
    }
    yield tail;
  }
  return {
    body: Readable.toWeb(Readable.from(parts())) as ReadableStream<Uint8Array>,
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    contentLength: head.length + file.size + tail.length,
  };
}

/**
 * Sends the file. The request goes through the SDK's typed client (URL,
 * query and error parsing) but with plain fetch underneath: the SDK's retry
 * and token-refresh layers keep a copy of every request body to replay it,
 * which for a 100 MB upload would mean holding the whole file in memory.
 * The session is refreshed first, so the token sent is current.
 */
export async function uploadFile(
  client: DjcastClient,
  file: { path: string; size: number; name: string },
  options: { title?: string; onBytes?: (sent: number) => void },
): Promise<Upload> {
  await client.me(); // renews an expired login before the one-shot upload
  const token = client.getTokens().accessToken;
  const { body, contentType, contentLength } = multipartFileBody(file, options.onBytes ?? (() => {}));
  return unwrap(
    client.raw.POST('/v1/uploads/audio', {
      params: { query: options.title ? { title: options.title } : {} },
      headers: {
        'content-type': contentType,
        'content-length': String(contentLength),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body as never,
      bodySerializer: (b: unknown) => b,
      duplex: 'half',
      fetch: (request: Request) => globalThis.fetch(request),
    } as never),
  ) as Promise<Upload>;
}

export function uploadsApi(client: DjcastClient) {
  const { raw } = client;
  return {
    get: (id: string) => unwrap(raw.GET('/v1/uploads/audio/{id}', { params: { path: { id } } })) as Promise<Upload>,
    list: (query: { limit?: number; starting_after?: string; status?: Upload['status'] }) =>
      unwrap(raw.GET('/v1/uploads/audio', { params: { query } })) as Promise<UploadList>,
    delete: async (id: string) => {
      const { error, response } = await raw.DELETE('/v1/uploads/audio/{id}', { params: { path: { id } } });
      if (!response.ok) throw DjcastApiError.fromResponse(response, error);
    },
  };
}

export function playlistsApi(client: DjcastClient) {
  const { raw } = client;
  return {
    create: (body: CreatePlaylistRequest) => unwrap(raw.POST('/v1/playlists', { body })) as Promise<Playlist>,
    get: (id: string) => unwrap(raw.GET('/v1/playlists/{id}', { params: { path: { id } } })) as Promise<Playlist>,
    list: (query: { limit?: number; starting_after?: string }) => unwrap(raw.GET('/v1/playlists', { params: { query } })) as Promise<PlaylistList>,
    update: (id: string, body: UpdatePlaylistRequest) =>
      unwrap(raw.PATCH('/v1/playlists/{id}', { params: { path: { id } }, body })) as Promise<Playlist>,
    delete: async (id: string) => {
      const { error, response } = await raw.DELETE('/v1/playlists/{id}', { params: { path: { id } } });
      if (!response.ok) throw DjcastApiError.fromResponse(response, error);
    },
  };
}

/** A playlist's items as the inputs that recreate them, in order (for add/remove, which PATCH the whole list). */
export function itemInputs(playlist: Playlist): PlaylistItemInput[] {
  return playlist.items.map((i) => (i.upload_id ? { upload_id: i.upload_id } : { url: i.url! }));
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
