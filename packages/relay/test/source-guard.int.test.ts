/**
 * Every connection the relay makes to the source goes through its own HTTP
 * client and that client's `lookup`: when the lookup refuses the source's
 * address, nothing connects (FFmpeg does not open the URL behind the relay's
 * back), and the relay reports the refusal and keeps retrying.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../src/blob/index.js';
import { loadRelayConfig } from '../src/config.js';
import type { LookupFunction } from '../src/source-http.js';
import { createRelayWorker, type RelayWorker } from '../src/worker.js';
import { waitUntil } from './wait.js';

describe('the relay connects to the source only through its guarded client', () => {
  let source: http.Server;
  let sourceUrl: string;
  let dir: string;
  let worker: RelayWorker;
  const hits: string[] = [];
  const asked: string[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    // Would serve audio to anyone who connects: nobody should.
    source = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
      res.writeHead(200, { 'Content-Type': 'audio/mpeg' });
      res.write(Buffer.alloc(4096));
    });
    await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
    // A name, not a literal: a literal needs no lookup (the client checks it directly), a name must be resolved.
    sourceUrl = `http://localhost:${(source.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-guard-'));
    const refuse: LookupFunction = (hostname, _options, callback) => {
      asked.push(hostname);
      callback(Object.assign(new Error(`address of ${hostname} is not allowed`), { code: 'EADDRNOTALLOWED' }), []);
    };
    worker = createRelayWorker(
      loadRelayConfig({
        DJCAST_RELAY_ID: 'rly_guard',
        DJCAST_STREAM_ID: 'str_guard',
        DJCAST_SOURCE_URL: `${sourceUrl}/live`,
        DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: `${sourceUrl}/status-json.xsl`,
        DJCAST_SOURCE_PASSWORD: 'guard-pw',
        DJCAST_API_URL: 'http://127.0.0.1:9',
        DJCAST_RELAY_TOKEN: 'guard-token',
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_RELAY_BACKOFF_INITIAL_MS: '50',
        DJCAST_RELAY_BACKOFF_MAX_MS: '200',
        DJCAST_STORAGE_DIR: path.join(dir, 'media'),
        DJCAST_LOG_LEVEL: 'info',
      }),
      {
        blobStore: new LocalBlobStore(path.join(dir, 'media')),
        lookup: refuse,
        statsIntervalMs: 500,
        logStream: new Writable({
          write(chunk: Buffer, _enc, cb) {
            logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
            cb();
          },
        }),
      },
    );
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    source.closeAllConnections();
    await new Promise<void>((r) => source.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('asks the lookup for every attempt, connects nowhere, spawns no FFmpeg and says why', async () => {
    const failures = await waitUntil('three refused attempts', 30_000, () => {
      const found = logLines
        .map((l) => JSON.parse(l) as { event: string; reason?: string })
        .filter((l) => l.event === 'source.failed');
      return found.length >= 3 ? found : null;
    });
    for (const f of failures) expect(f.reason).toContain('is not allowed');
    await waitUntil('the stats poller to be refused too', 30_000, () =>
      logLines.some((l) => l.includes('"event":"stats.failed"')),
    );
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(new Set(asked)).toEqual(new Set(['localhost']));
    expect(hits).toEqual([]);
    expect(worker.ffmpegPid).toBeNull();
    expect(logLines.some((l) => l.includes('"event":"ffmpeg.started"') || l.includes('"event":"source.opened"'))).toBe(false);
    expect(worker.status().state).toBe('reconnecting');
  }, 60_000);
});
