import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import {
  MalformedMultipartError,
  MissingFileError,
  nodeRequestBody,
  PayloadTooLargeError,
  receiveMultipartFile,
  UnsupportedMediaTypeError,
  UploadAbortedError,
} from '../../http/multipart-upload.js';
import { json, securedRoute, extraErrors } from '../../http/openapi.js';
import { DomainError } from '../../core/errors.js';
import {
  CreateUploadQuery,
  MultipartUploadBody,
  UploadIdParam,
  UploadListQuery,
  UploadListSchema,
  UploadSchema,
} from './schemas.js';
import type { UploadsService } from './service.js';

const createUpload = securedRoute(
  'uploads:write',
  {
    method: 'post',
    path: '/v1/uploads/audio',
    operationId: 'createUpload',
    tags: ['uploads'],
    summary: 'Upload an MP3 (multipart field `file`); it is scanned and transcoded to HLS in the background',
    description:
      'The body streams straight to storage and is checked as it arrives: more than the size limit is a 413 naming the limit, ' +
      'a file that is not MP3 a 415 (or 422 when it is MP3 too damaged to use). Nothing is kept from a refused upload. ' +
      'Poll GET /v1/uploads/audio/{id} for `progress` until `ready` (or `failed`/`rejected`, with the reason).',
    request: {
      query: CreateUploadQuery,
      body: { content: { 'multipart/form-data': { schema: MultipartUploadBody } }, required: true },
    },
    responses: { 201: { description: 'Stored; processing', content: json(UploadSchema) }, ...extraErrors(413, 415, 422) },
  },
  { body: 'stream', idempotent: false },
);

const listUploads = securedRoute('uploads:write', {
  method: 'get',
  path: '/v1/uploads/audio',
  operationId: 'listUploads',
  tags: ['uploads'],
  summary: 'Your uploads, newest first (admins: everyone’s)',
  request: { query: UploadListQuery },
  responses: { 200: { description: 'Uploads', content: json(UploadListSchema) } },
});

const getUpload = securedRoute('uploads:write', {
  method: 'get',
  path: '/v1/uploads/audio/{id}',
  operationId: 'getUpload',
  tags: ['uploads'],
  summary: 'One upload: processing (with progress), ready (with the HLS URL), failed or rejected (with the reason)',
  request: { params: UploadIdParam },
  responses: { 200: { description: 'The upload', content: json(UploadSchema) } },
});

const deleteUpload = securedRoute('uploads:write', {
  method: 'delete',
  path: '/v1/uploads/audio/{id}',
  operationId: 'deleteUpload',
  tags: ['uploads'],
  summary: 'Delete an upload and its stored media (not while a playlist uses it)',
  request: { params: UploadIdParam },
  responses: { 204: { description: 'Deleted' }, ...extraErrors(409) },
});

export interface UploadRouteDeps {
  uploads: UploadsService;
  maxBytes: number;
}

export function registerUploadRoutes(app: App, deps: UploadRouteDeps): void {
  const { uploads, maxBytes } = deps;

  app.openapi(createUpload, async (c) => {
    const principal = principalOf(c);
    const { title } = c.req.valid('query');
    const signal = c.req.raw.signal;
    try {
      const view = await receiveMultipartFile(c.req.raw, {
        field: 'file',
        maxBytes,
        nodeBody: nodeRequestBody(c.env),
        sink: (file) => uploads.create(principal, { stream: file.stream, filename: file.filename || null, title, signal }),
      });
      return c.json(view, 201);
    } catch (error) {
      throw asProblem(error);
    }
  });

  app.openapi(listUploads, async (c) => c.json(await uploads.list(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getUpload, async (c) => c.json(await uploads.get(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(deleteUpload, async (c) => {
    await uploads.delete(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
}

/** The multipart receiver's errors, as the problems the API documents. */
function asProblem(error: unknown): unknown {
  if (error instanceof PayloadTooLargeError) {
    // The rest of the body is never read: close the connection after answering.
    return new DomainError('payload_too_large', `Uploads are limited to ${error.limitBytes} bytes; nothing was kept.`, {
      limit_bytes: error.limitBytes,
      headers: { Connection: 'close' },
    });
  }
  if (error instanceof UnsupportedMediaTypeError) {
    return new DomainError(
      'unsupported_media_type',
      `${error.message} Send multipart/form-data with the file in the "file" field.`,
    );
  }
  if (error instanceof MissingFileError) {
    return new DomainError('validation_failed', 'The form has no "file" field. Send the MP3 as multipart field "file".', {
      errors: [{ path: 'file', message: 'required', code: 'missing' }],
    });
  }
  if (error instanceof MalformedMultipartError) {
    return new DomainError('validation_failed', `${error.message}. Send the MP3 as multipart/form-data field "file".`);
  }
  if (error instanceof UploadAbortedError) {
    return new DomainError('validation_failed', 'The upload was cut off before it finished; nothing was kept.');
  }
  return error;
}
