// The embedded defaults load no vendor client they do not use. The AWS,
// Kubernetes, Stripe, Cloudflare, ACME and SMTP clients cost the idle server
// well over 100 MB of resident memory when imported for nothing (263 -> 135
// MB measured with all of them gone), so the composition root imports each
// only when config picks it. Each case builds the whole server in a fresh
// process and looks at the npm packages it loaded.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const VENDOR_CLIENTS = [
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  '@aws-sdk/s3-request-presigner',
  '@kubernetes/client-node',
  'stripe',
  'cloudflare',
  'acme-client',
  'nodemailer',
];

async function loadedWith(env: Record<string, string>): Promise<{ packages: string[]; backends: Record<string, string> }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', path.join(here, 'vendor-modules-child.ts')],
    { cwd: path.resolve(here, '../../..'), env: { ...process.env, CONFIG_ENV: JSON.stringify(env) }, timeout: 90_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { packages: string[]; backends: Record<string, string> };
}

describe('vendor clients load only when config picks them', () => {
  it('the embedded defaults load none of them', async () => {
    const { packages, backends } = await loadedWith({});
    expect(backends).toMatchObject({ storage: 'local', mail: 'outbox', relay_launcher: 'process', billing: 'local' });
    expect(packages).toContain('better-sqlite3'); // the hook sees the packages that do load
    expect(packages.filter((p) => VENDOR_CLIENTS.includes(p))).toEqual([]);
  }, 120_000);

  it('the ones config picks do load (Stripe, SMTP, Cloudflare CDN and DNS, S3)', async () => {
    const { packages, backends } = await loadedWith({
      DJCAST_STRIPE_SECRET_KEY: 'sk_test_vendor_modules',
      DJCAST_SMTP_URL: 'smtp://127.0.0.1:2525',
      DJCAST_CDN: 'cloudflare',
      DJCAST_DNS_PROVIDER: 'cloudflare',
      DJCAST_CLOUDFLARE_API_TOKEN: 'cf-token',
      DJCAST_CLOUDFLARE_ZONE_ID: '0123456789abcdef0123456789abcdef',
      DJCAST_STORAGE: 's3',
      DJCAST_S3_BUCKET: 'media',
      DJCAST_S3_ENDPOINT: 'http://127.0.0.1:9',
      DJCAST_S3_ACCESS_KEY_ID: 'AK',
      DJCAST_S3_SECRET_ACCESS_KEY: 'SK',
    });
    expect(backends).toMatchObject({ storage: 's3', mail: 'smtp', cdn: 'cloudflare', dns: 'cloudflare' });
    expect(packages.filter((p) => VENDOR_CLIENTS.includes(p))).toEqual(
      [
        '@aws-sdk/client-s3',
        '@aws-sdk/lib-storage',
        '@aws-sdk/s3-request-presigner',
        'cloudflare',
        'nodemailer',
        'stripe',
      ].sort(),
    );
  }, 120_000);
});
