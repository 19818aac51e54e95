// Test audio and a streaming multipart upload client, shared by the upload rows.

import { execFileSync } from 'node:child_process';
import { createReadStream, openSync, closeSync, readFileSync, statSync, writeSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** Encodes `seconds` of a sine tone as a bare MP3 (no ID3 tag, no Xing frame), so copies of it concatenate cleanly. */
export function toneMp3(file, { seconds = 60, bitrateKbps = 128, frequency = 440 } = {}) {
  try {
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `sine=frequency=${frequency}:duration=${seconds}`],
      ...['-ac', '2', '-ar', '44100', '-c:a', 'libmp3lame', '-b:a', `${bitrateKbps}k`],
      ...['-id3v2_version', '0', '-write_xing', '0', '-f', 'mp3', file],
    ]);
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('ffmpeg is not installed: apt-get install ffmpeg');
    throw error;
  }
  return file;
}

/** An MP3 of about `bytes` (never more): whole copies of a 60 s tone at `bitrateKbps`. Returns its path and size. */
export function mp3OfSize(dir, bytes, { bitrateKbps = 320 } = {}) {
  const chunkFile = toneMp3(path.join(dir, `tone-${bitrateKbps}.mp3`), { seconds: 60, bitrateKbps });
  const chunk = readFileSync(chunkFile);
  const copies = Math.max(1, Math.floor(bytes / chunk.length));
  const file = path.join(dir, `audio-${bytes}.mp3`);
  const fd = openSync(file, 'w');
  for (let i = 0; i < copies; i++) writeSync(fd, chunk);
  closeSync(fd);
  return { file, size: statSync(file).size, seconds: copies * 60 };
}

/**
 * POSTs `file` as the "file" field of a multipart/form-data body, streamed from disk with a
 * Content-Length, and resolves with { status, body, seconds } when the response has ended.
 */
export function uploadFile(url, file, { token, filename = 'mix.mp3' } = {}) {
  const boundary = '----djcastBench7MA4YWxkTrZu0gW';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: audio/mpeg\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + statSync(file).size + tail.length;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(length),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const seconds = (performance.now() - started) / 1000;
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode, body, seconds });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(head);
    const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
    stream.on('error', reject);
    stream.on('end', () => req.end(tail));
    stream.pipe(req, { end: false });
  });
}
