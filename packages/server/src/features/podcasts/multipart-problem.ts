import { DomainError } from '../../core/errors.js';
import {
  MalformedMultipartError,
  MissingFileError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadAbortedError,
} from '../../http/multipart-upload.js';

/** The multipart receiver's errors, as the problems the API documents. */
export function multipartProblem(error: unknown, what: string): unknown {
  if (error instanceof PayloadTooLargeError) {
    return new DomainError('payload_too_large', `Uploads are limited to ${error.limitBytes} bytes; nothing was kept.`, {
      limit_bytes: error.limitBytes,
      headers: { Connection: 'close' },
    });
  }
  if (error instanceof UnsupportedMediaTypeError) {
    return new DomainError(
      'unsupported_media_type',
      `${error.message} Send multipart/form-data with ${what} in the "file" field.`,
    );
  }
  if (error instanceof MissingFileError) {
    return new DomainError('validation_failed', `The form has no "file" field. Send ${what} as multipart field "file".`, {
      errors: [{ path: 'file', message: 'required', code: 'missing' }],
    });
  }
  if (error instanceof MalformedMultipartError) {
    return new DomainError('validation_failed', `${error.message}. Send ${what} as multipart/form-data field "file".`);
  }
  if (error instanceof UploadAbortedError) {
    return new DomainError('validation_failed', 'The upload was cut off before it finished; nothing was kept.');
  }
  return error;
}
