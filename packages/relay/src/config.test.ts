import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRelayConfig, loadRelayConfig, RelayConfigError } from './config.js';

const minimal = {
  DJCAST_RELAY_ID: 'rly_1',
  DJCAST_STREAM_ID: 'str_01HZX',
  DJCAST_SOURCE_URL: 'http://radio.example.com:8000/live',
  DJCAST_SOURCE_KIND: 'icecast',
  DJCAST_STATS_URL: 'http://radio.example.com:8000/status-json.xsl',
  DJCAST_API_URL: 'http://127.0.0.1:8787/',
  DJCAST_RELAY_TOKEN: 'rtk_secret',
  DJCAST_STORAGE_DIR: '/var/lib/djcast/media',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadRelayConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(RelayConfigError);
    return (err as RelayConfigError).problems;
  }
  throw new Error('expected a RelayConfigError');
}

describe('loadRelayConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadRelayConfig(minimal);
    expect(config).toEqual({
      relayId: 'rly_1',
      streamId: 'str_01HZX',
      source: {
        url: 'http://radio.example.com:8000/live',
        kind: 'icecast',
        statsUrl: 'http://radio.example.com:8000/status-json.xsl',
      },
      allowPrivateUrls: false,
      api: { url: 'http://127.0.0.1:8787', token: 'rtk_secret' },
      audio: 'aac',
      paywall: { enabled: false, visibility: 'public' },
      http: { host: '0.0.0.0', port: 9464 },
      heartbeatMs: 30_000,
      offlineAfterMs: 300_000,
      backoff: { initialMs: 1000, maxMs: 30_000 },
      segmentSeconds: 6,
      window: 3,
      ffmpegPath: 'ffmpeg',
      logLevel: 'info',
      storage: { kind: 'local', dir: '/var/lib/djcast/media' },
    });
  });

  it('reads every variable of the contract', () => {
    const config = loadRelayConfig({
      ...minimal,
      DJCAST_SOURCE_KIND: 'shoutcast2',
      DJCAST_SOURCE_USERNAME: 'dj',
      DJCAST_SOURCE_PASSWORD: 'pw',
      DJCAST_RELAY_AUDIO: 'copy',
      DJCAST_RELAY_PAYWALL: 'on',
      DJCAST_RELAY_VISIBILITY: 'private',
      DJCAST_ALLOW_PRIVATE_URLS: 'true',
      DJCAST_RELAY_PORT: '0',
      DJCAST_RELAY_HEARTBEAT_MS: '1000',
      DJCAST_RELAY_OFFLINE_AFTER_MS: '4000',
      DJCAST_RELAY_BACKOFF_INITIAL_MS: '200',
      DJCAST_RELAY_BACKOFF_MAX_MS: '1000',
      DJCAST_RELAY_SEGMENT_SECONDS: '4',
      DJCAST_RELAY_WINDOW: '5',
      DJCAST_STORAGE: 's3',
      DJCAST_STORAGE_DIR: undefined,
      DJCAST_S3_BUCKET: 'media',
      DJCAST_S3_REGION: 'eu-west-1',
      DJCAST_S3_ENDPOINT: 'http://127.0.0.1:4568',
      DJCAST_S3_FORCE_PATH_STYLE: 'true',
      DJCAST_S3_ACCESS_KEY_ID: 'AK',
      DJCAST_S3_SECRET_ACCESS_KEY: 'SK',
    });
    expect(config.source).toMatchObject({ kind: 'shoutcast2', username: 'dj', password: 'pw' });
    expect(config.audio).toBe('copy');
    expect(config.paywall).toEqual({ enabled: true, visibility: 'private' });
    expect(config.allowPrivateUrls).toBe(true);
    expect(config.http.port).toBe(0);
    expect([config.heartbeatMs, config.offlineAfterMs, config.backoff.initialMs, config.backoff.maxMs]).toEqual([
      1000, 4000, 200, 1000,
    ]);
    expect([config.segmentSeconds, config.window]).toEqual([4, 5]);
    expect(config.storage).toEqual({
      kind: 's3',
      bucket: 'media',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4568',
      forcePathStyle: true,
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
    });
  });

  it('reads secrets from *_FILE variables', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'relay-config-'));
    try {
      writeFileSync(path.join(dir, 'token'), 'from-file\n');
      writeFileSync(path.join(dir, 'pw'), 'pw-from-file');
      const config = loadRelayConfig({
        ...minimal,
        DJCAST_RELAY_TOKEN: undefined,
        DJCAST_RELAY_TOKEN_FILE: path.join(dir, 'token'),
        DJCAST_SOURCE_PASSWORD_FILE: path.join(dir, 'pw'),
      });
      expect(config.api.token).toBe('from-file');
      expect(config.source.password).toBe('pw-from-file');
      expect(problems({ ...minimal, DJCAST_RELAY_TOKEN: undefined, DJCAST_RELAY_TOKEN_FILE: path.join(dir, 'missing') })).toEqual(
        [
          expect.stringMatching(/DJCAST_RELAY_TOKEN_FILE: cannot read .*missing \(ENOENT\)/),
          expect.stringMatching(/^DJCAST_RELAY_TOKEN: /),
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every problem at once, including cross-field rules', () => {
    const found = problems({
      ...minimal,
      DJCAST_RELAY_ID: '',
      DJCAST_SOURCE_URL: 'file:///etc/passwd',
      DJCAST_SOURCE_KIND: 'winamp',
      DJCAST_RELAY_AUDIO: 'flac',
      DJCAST_RELAY_WINDOW: '2',
      DJCAST_RELAY_BACKOFF_INITIAL_MS: '5000',
      DJCAST_RELAY_BACKOFF_MAX_MS: '1000',
      DJCAST_STORAGE_DIR: '',
    });
    const text = found.join('\n');
    for (const name of [
      'DJCAST_RELAY_ID',
      'DJCAST_SOURCE_URL',
      'DJCAST_SOURCE_KIND',
      'DJCAST_RELAY_AUDIO',
      'DJCAST_RELAY_WINDOW',
      'DJCAST_STORAGE_DIR',
    ]) {
      expect(text).toContain(`${name}:`);
    }
    expect(problems({ ...minimal, DJCAST_RELAY_BACKOFF_INITIAL_MS: '5000', DJCAST_RELAY_BACKOFF_MAX_MS: '1000' })).toEqual([
      'DJCAST_RELAY_BACKOFF_INITIAL_MS: must not exceed DJCAST_RELAY_BACKOFF_MAX_MS',
    ]);
    expect(problems({ ...minimal, DJCAST_STORAGE: 's3' })).toEqual(['DJCAST_S3_BUCKET: required when DJCAST_STORAGE is s3']);
    expect(problems({ ...minimal, DJCAST_SOURCE_URL: 'http://dj:pw@radio.example.com/live' })[0]).toMatch(
      /must not contain credentials/,
    );
    expect(problems({ ...minimal, DJCAST_STREAM_ID: '../etc' })[0]).toMatch(/^DJCAST_STREAM_ID:/);
  });

  it('describes itself without secrets', () => {
    const config = loadRelayConfig({ ...minimal, DJCAST_SOURCE_PASSWORD: 'hunter2' });
    const text = JSON.stringify(describeRelayConfig(config));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('rtk_secret');
    expect(describeRelayConfig(config)).toMatchObject({ source_auth: true, stream_id: 'str_01HZX' });
  });
});
