/**
 * The web subscribe flow in a real browser: Debian's Chromium driven by
 * playwright-core against the real server on loopback. An anonymous
 * listener meets a monetized playlist (its stream answers 403 with the
 * plans), presses a plan's Subscribe button, signs up on the server-rendered
 * form, is subscribed (local test mode) and sent back to the page, which
 * now plays: the media element's currentTime advances.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { createTestApp, STRONG_PASSWORD, uniqueEmail, waitFor, type TestApp } from './harness.js';
import { registerDj } from './icecast.js';
import { BOUNDARY, multipartBody } from './uploads-support.js';

const CHROMIUM = '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = path.resolve(here, '../../../test-artifacts/screenshots');

const READ_TIME = `(() => {
  const el = document.querySelector('djcast-player');
  const media = el && el.media;
  return { defined: !!customElements.get('djcast-player') && !!el, time: media ? media.currentTime : 0, paused: media ? media.paused : true };
})()`;

describe('web subscribe in Chromium: 403 with plans -> Subscribe -> sign up -> back on the page, which plays', () => {
  let browser: Browser;
  let server: ServerType;
  let t: TestApp;
  let baseUrl: string;
  let token: string;
  let planId: string;
  let playlistId: string;
  let workDir: string;
  const consoleErrors: string[] = [];

  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as Record<string, any>;
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `This test drives Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium (scripts/install-system-deps.sh)`,
      );
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    workDir = await mkdtemp(path.join(tmpdir(), 'djcast-subscribe-browser-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
    });
    let handler: (req: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
    server = serve({ fetch: (req) => handler(req), port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await createTestApp('sqlite', { DJCAST_PUBLIC_URL: baseUrl, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });
    handler = (req) => t.app.fetch(req);
    t.container.worker.start();

    token = await registerDj(baseUrl, { display_name: 'DJ Paywall', role: 'dj' });
    planId = (
      await api('POST', '/v1/plans', { name: 'Supporters', price_cents: 300, currency: 'usd', billing_interval: 'month' })
    ).id;
    const file = await generateTestMp3(path.join(workDir, 'tone.mp3'), { seconds: 20, frequency: 440 });
    const uploaded = await fetch(`${baseUrl}/v1/uploads/audio?title=Members%20Tone`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipartBody(await readFile(file), 'tone.mp3'),
    });
    const uploadId = ((await uploaded.json()) as { id: string }).id;
    await waitFor(
      'the upload to be ready',
      async () => (await api('GET', `/v1/uploads/audio/${uploadId}`)).status === 'ready',
      90_000,
      250,
    );
    playlistId = (
      await api('POST', '/v1/playlists', { title: 'Members only', items: [{ upload_id: uploadId }], monetization_enabled: true })
    ).id;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('an anonymous listener subscribes from the page and then hears it', { timeout: 120_000 }, async () => {
    // Anonymous: the stream is 403 with the plans that unlock it.
    const denied = await fetch(`${baseUrl}/playlists/${playlistId}/stream.mp3`);
    expect(denied.status).toBe(403);
    expect(JSON.stringify(await denied.json())).toContain(planId);

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${baseUrl}/p/${playlistId}`);
    expect(await page.locator('djcast-player').count()).toBe(0);
    expect(await page.locator(`[data-plan-id="${planId}"]`).textContent()).toContain('Supporters');

    await page.locator(`[data-plan-id="${planId}"] [data-role="subscribe"]`).click();
    await page.waitForURL(/\/subscribe\?/);
    expect(await page.locator('h1').textContent()).toBe('Subscribe to Supporters');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'subscribe-form-desktop.png'), fullPage: true });
    await page.locator('#signup-email').fill(uniqueEmail());
    await page.locator('#signup-password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign up and subscribe' }).click();

    await page.waitForURL(`${baseUrl}/p/${playlistId}`);
    await expect
      .poll(async () => ((await page.evaluate(READ_TIME)) as { defined: boolean }).defined, { timeout: 15_000 })
      .toBe(true);
    const cookies = await page.context().cookies(baseUrl);
    const session = cookies.find((c) => c.name === 'djcast_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    await page.locator('djcast-player button').click();
    await waitFor(
      'the subscriber’s player: currentTime to advance 3 s',
      async () => {
        const s = (await page.evaluate(READ_TIME)) as { time: number; paused: boolean };
        return !s.paused && s.time >= 3;
      },
      45_000,
      250,
    );
    expect(consoleErrors).toEqual([]);
  });
});
