import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('runs on embedded defaults with no variables at all', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8787);
    expect(config.database.url).toBe(`sqlite:${path.resolve('.djcast/djcast.sqlite')}`);
    expect(config.storage).toEqual({ kind: 'local', dir: path.resolve('.djcast/media') });
    expect(config.publicUrl).toBe('http://localhost:8787');
    expect(config.network.allowPrivateUrls).toBe(false);
  });

  it('needs a bucket when storage is s3', () => {
    expect(() => loadConfig({ DJCAST_STORAGE: 's3' })).toThrow(/DJCAST_S3_BUCKET: required when DJCAST_STORAGE is s3/);
  });

  it('refuses a database URL of another kind, a bad port and a short JWT secret, listing each', () => {
    try {
      loadConfig({ DJCAST_DATABASE_URL: 'mysql://x', DJCAST_PORT: 'eighty', DJCAST_JWT_SECRET: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/DJCAST_PORT/);
      expect(problems).toMatch(/DJCAST_JWT_SECRET/);
    }
    expect(() => loadConfig({ DJCAST_DATABASE_URL: 'mysql://x' })).toThrow(/postgres:\/\/ or sqlite:/);
  });

  it('reads secrets from *_FILE variables', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'djcast-config-')), 'jwt');
    writeFileSync(file, 'a-very-long-secret-from-a-mounted-file-0123456789\n');
    expect(loadConfig({ DJCAST_JWT_SECRET_FILE: file }).auth.jwtSecret).toBe('a-very-long-secret-from-a-mounted-file-0123456789');
  });

  it('validates the platform fee on DJs’ payments (0–100, at most two decimals)', () => {
    expect(loadConfig({ DJCAST_BILLING_APPLICATION_FEE_PERCENT: '12.25' }).billing).toMatchObject({ kind: 'local' });
    expect(
      loadConfig({ DJCAST_STRIPE_SECRET_KEY: 'sk_test_x', DJCAST_BILLING_APPLICATION_FEE_PERCENT: '0.29' }).billing.stripe
        ?.applicationFeePercent,
    ).toBe(0.29);
    expect(() => loadConfig({ DJCAST_BILLING_APPLICATION_FEE_PERCENT: '150' })).toThrow(/DJCAST_BILLING_APPLICATION_FEE_PERCENT/);
    expect(() => loadConfig({ DJCAST_BILLING_APPLICATION_FEE_PERCENT: 'ten' })).toThrow(/DJCAST_BILLING_APPLICATION_FEE_PERCENT/);
    expect(() => loadConfig({ DJCAST_BILLING_APPLICATION_FEE_PERCENT: '10.125' })).toThrow(/two decimals/);
  });

  it('wants the admin email and password together', () => {
    expect(() => loadConfig({ DJCAST_ADMIN_EMAIL: 'root@example.com' })).toThrow(/go together/);
  });
});
