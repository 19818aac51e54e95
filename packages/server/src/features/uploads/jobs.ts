import { z } from 'zod';
import { ScannerError } from '../../adapters/scanner/types.js';
import { TranscodeError } from '../../adapters/transcoder/types.js';
import { defineJob, jobType, type JobDefinition } from '../../jobs/definition.js';
import type { UploadsService } from './service.js';

const UploadJobPayload = z.object({ upload_id: z.string().regex(/^upl_[0-9a-z]{1,60}$/) });
export type UploadJobPayload = z.infer<typeof UploadJobPayload>;

/** Virus scan (when configured), then the HLS transcode of one upload. */
export const PROCESS_UPLOAD = jobType({ kind: 'upload.process', payload: UploadJobPayload, maxAttempts: 3 });

/** Errors a retry will not fix: the input itself is bad (for FFmpeg or for clamd), or FFmpeg is missing. */
export function isPermanentUploadFailure(error: unknown): boolean {
  if (error instanceof ScannerError) return error.code === 'size_limit';
  return error instanceof TranscodeError && ['failed', 'bad_input', 'bad_output', 'not_installed'].includes(error.code);
}

/** What the DJ reads in `reason` when the job gives up. */
export function uploadFailureReason(error: unknown): string {
  if (error instanceof ScannerError) {
    if (error.code === 'size_limit') return 'The file is larger than the virus scanner accepts, so it was not published.';
    if (error.code === 'unavailable' || error.code === 'timeout') {
      return 'The virus scanner is unavailable, so the file was not published (uploads are never published unscanned). Try again later.';
    }
    return 'The virus scan failed, so the file was not published. Try again later.';
  }
  if (error instanceof TranscodeError && error.code === 'input_error')
    return 'The stored file could not be read. Try uploading it again.';
  return `Transcoding failed: ${error instanceof Error ? error.message : String(error)}`;
}

export function processUploadJob(uploads: UploadsService): JobDefinition<UploadJobPayload> {
  return defineJob(PROCESS_UPLOAD, {
    run: (payload, ctx) => uploads.process(payload, ctx),
    isPermanent: isPermanentUploadFailure,
    onFinalFailure: (payload, error, ctx) => uploads.markFailed(payload.upload_id, uploadFailureReason(error), error, ctx.logger),
  });
}
