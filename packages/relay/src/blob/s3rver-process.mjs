// Test-only: runs s3rver on a loopback port for blob.int.test.ts, in its own
// Node process started with --openssl-legacy-provider (s3rver 3.7 builds
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 disables).
//
// Two additions make it strict enough to test S3BlobStore against:
//  - AbortMultipartUpload, which s3rver lacks (405), over s3rver's own upload
//    folder, so a missing or wrong abort shows up as a pending upload;
//  - SigV4 verification of every request (header and presigned query), which
//    s3rver skips, so a badly signed or tampered request gets a 403.
//
// Usage: node --openssl-legacy-provider s3rver-process.mjs <dataDir> <bucket> <accessKeyId> <secretAccessKey>
// Prints one JSON line {"port","uploadsDir"}, then one {"request"} line per request.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import S3rver from 's3rver';

const [directory, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2);
if (!directory || !bucket || !accessKeyId || !secretAccessKey) {
  console.error('usage: s3rver-process.mjs <dataDir> <bucket> <accessKeyId> <secretAccessKey>');
  process.exit(2);
}

const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] });
await s3rver.configureBuckets();
const handle = s3rver.callback();
const uploadsDir = s3rver.store.getResourcePath(bucket, undefined, 'uploads');

const rfc3986 = (value) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (value) => createHash('sha256').update(value).digest('hex');
const hmac = (key, value) => createHmac('sha256', key).update(value).digest();

function parseQuery(rawQuery) {
  if (!rawQuery) return [];
  return rawQuery.split('&').map((pair) => {
    const at = pair.indexOf('=');
    const name = at === -1 ? pair : pair.slice(0, at);
    const value = at === -1 ? '' : pair.slice(at + 1);
    return [decodeURIComponent(name), decodeURIComponent(value)];
  });
}

/** Returns null when the request is correctly signed, or the reason it is not. */
function signatureProblem(req) {
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
  const query = parseQuery(rawQuery);
  const queryValue = (name) => query.find(([key]) => key === name)?.[1];
  let credential, amzDate, signedHeaders, signature, payloadHash;
  const presigned = queryValue('X-Amz-Signature') !== undefined;
  if (presigned) {
    if (queryValue('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'unsupported algorithm';
    credential = queryValue('X-Amz-Credential');
    amzDate = queryValue('X-Amz-Date');
    signedHeaders = queryValue('X-Amz-SignedHeaders');
    signature = queryValue('X-Amz-Signature');
    payloadHash = 'UNSIGNED-PAYLOAD';
    const expires = Number(queryValue('X-Amz-Expires'));
    const signedAt = Date.parse(amzDate?.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z') ?? '');
    if (!Number.isFinite(expires) || !Number.isFinite(signedAt)) return 'bad X-Amz-Date or X-Amz-Expires';
    if (Date.now() > signedAt + expires * 1000) return 'request has expired';
  } else {
    const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(req.headers.authorization ?? '');
    if (!match) return 'missing or malformed Authorization header';
    [, credential, signedHeaders, signature] = match;
    amzDate = req.headers['x-amz-date'];
    payloadHash = req.headers['x-amz-content-sha256'];
    if (!payloadHash) return 'missing x-amz-content-sha256';
  }
  const [keyId, date, region, service, terminator] = (credential ?? '').split('/');
  if (keyId !== accessKeyId) return `unknown access key ${keyId}`;
  if (!date || !region || service !== 's3' || terminator !== 'aws4_request' || !amzDate?.startsWith(date)) return 'bad credential scope';
  const headerNames = (signedHeaders ?? '').split(';');
  if (!headerNames.includes('host')) return 'host is not signed';
  const canonicalUri = rawPath.split('/').map((segment) => rfc3986(decodeURIComponent(segment))).join('/');
  const canonicalQuery = query
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = headerNames.map((name) => `${name}:${String(req.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = ['aws4_request'].reduce(
    (key, part) => hmac(key, part),
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service),
  );
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest();
  const provided = Buffer.from(signature ?? '', 'hex');
  if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) return 'signature does not match';
  return null;
}

function s3Error(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

const server = createServer((req, res) => {
  process.stdout.write(`${JSON.stringify({ request: `${req.method} ${req.url}` })}\n`);
  const problem = signatureProblem(req);
  if (problem) {
    req.resume();
    s3Error(res, 403, problem === 'request has expired' ? 'AccessDenied' : 'SignatureDoesNotMatch', problem);
    return;
  }
  const uploadId = new URL(req.url ?? '/', 'http://s3.local').searchParams.get('uploadId');
  if (req.method === 'DELETE' && uploadId !== null) {
    if (!/^[0-9a-f]{32}$/.test(uploadId)) return s3Error(res, 400, 'InvalidArgument', 'bad uploadId');
    const dir = path.join(uploadsDir, uploadId);
    readdir(dir)
      .then(() => rm(dir, { recursive: true }))
      .then(
        () => res.writeHead(204).end(),
        () => s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist'),
      );
    return;
  }
  handle(req, res);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, uploadsDir })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// The parent closing our stdin means it is gone: never outlive it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
