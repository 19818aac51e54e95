// What `--wait` and the `wait` commands share: follow one thing on the server
// until it settles, with progress on stderr, and name the `wait` command that
// keeps following it when the time runs out (never the command that created it,
// which would create a second one).
import {
  isDjcastTimeoutError,
  isDjcastUploadFailedError,
  type DjcastClient,
  type Playlist,
  type Stream,
  type Upload,
} from '@djcast/sdk';
import { CliError, WaitTimeoutError } from './services/errors.js';
import { resumeHint, waitFor } from './services/wait.js';
import type { Output } from './ui/output.js';

export interface Follow {
  client: DjcastClient;
  out: Output;
  timeoutSeconds: number;
}

/** Until the upload is ready, failed or rejected (returned: see `requireReady`), or the time runs out (exit 4). */
export async function followUpload({ client, out, timeoutSeconds }: Follow, id: string): Promise<Upload> {
  const transcoding = out.progress(100, 'Transcoding');
  let upload: Upload;
  try {
    upload = await client.uploads.waitUntilReady(id, {
      timeoutMs: timeoutSeconds * 1000,
      intervalMs: 1000,
      onProgress: (percent) => transcoding.update(percent),
    });
  } catch (error) {
    if (isDjcastTimeoutError(error))
      throw new WaitTimeoutError(error.message, error.last, resumeHint(`djcast upload wait ${id}`));
    if (!isDjcastUploadFailedError(error)) throw error;
    upload = error.upload;
  } finally {
    transcoding.stop();
  }
  return upload;
}

/**
 * A failed or rejected upload exits 1: under --json with the upload object as
 * the only output, else with the reason on stderr.
 */
export function requireReady(upload: Upload, out: Output, exit: (code: number) => never): Upload {
  if (upload.status === 'ready') return upload;
  if (out.json) {
    out.printJson(upload);
    exit(1);
  }
  throw new CliError(`Upload ${upload.id} ${upload.status}: ${upload.reason ?? 'no reason given'}`, {
    code: `upload_${upload.status}`,
    hint:
      upload.status === 'rejected'
        ? 'The file was deleted from the server.'
        : 'Check the file plays locally, then upload it again.',
  });
}

/** Until the stream's relay is live; returns the stream. */
export async function followStream({ client, out, timeoutSeconds }: Follow, id: string): Promise<Stream> {
  let last = '';
  await waitFor(() => client.streams.status(id), {
    what: `stream ${id} to go live`,
    resume: `djcast stream wait ${id}`,
    timeoutMs: timeoutSeconds * 1000,
    until: (s) => s.state === 'live',
    onPoll: (s, elapsed) => {
      if (s.state !== last) out.info(`${s.state} (${Math.round(elapsed / 1000)}s)`);
      last = s.state;
    },
  });
  return client.streams.get(id);
}

/** Until every external track of the playlist is fetched (the playlist is `ready`); failed tracks are named on stderr. */
export async function followPlaylist({ client, out, timeoutSeconds }: Follow, id: string): Promise<Playlist> {
  let reported = -1;
  const playlist = await waitFor(() => client.playlists.get(id), {
    what: `the external tracks of playlist ${id}`,
    resume: `djcast playlist wait ${id}`,
    timeoutMs: timeoutSeconds * 1000,
    intervalMs: 1000,
    until: (p) => p.status === 'ready',
    onPoll: (p) => {
      const pending = p.items.filter((item) => item.status === 'pending').length;
      if (pending !== reported && p.status !== 'ready')
        out.info(`${pending} external track${pending === 1 ? '' : 's'} still being fetched…`);
      reported = pending;
    },
  });
  for (const item of playlist.items) {
    if (item.status === 'failed')
      out.warn(
        `Track ${item.position} (${item.url ?? item.upload_id}) failed and is left out: ${item.reason ?? 'no reason given'}`,
      );
  }
  return playlist;
}
