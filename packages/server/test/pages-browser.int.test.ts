/**
 * The listener pages in a real browser: Debian's Chromium driven by
 * playwright-core, against the real server on loopback, a real Icecast fed
 * by an FFmpeg tone (the DJ's encoder), the built relay worker, and
 * playlists of real uploads. The live page, its embed on another origin
 * (hls.js), the playlist page (stream.mp3) and its embed (native HLS) play
 * audio; the now-playing title follows the source; the live players recover
 * when the source drops and returns; a podcast page plays an uploaded episode
 * chosen by its Play link. Screenshots of every page at phone and
 * desktop widths go to test-artifacts/screenshots/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRelayCommand } from '../src/adapters/relay-launcher/index.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { createTestApp, waitFor, type TestApp } from './harness.js';
import { type IcecastServer, registerDj, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { multipartBody, BOUNDARY } from './uploads-support.js';

const CHROMIUM = '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = path.resolve(here, '../../../test-artifacts/screenshots');
const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;

const SOURCE_PASSWORD = 'encoder-secret-42';
const tone = (ice: IcecastServer) => startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });

/** What the page's <djcast-player> reports (read in the page; the element exposes its media element). */
interface PlayerState {
  defined: boolean;
  time: number;
  paused: boolean;
  engine: string | null;
  liveState: string | null;
  label: string | null;
  now: string;
}
/** Runs in the page (the server's tsconfig has no DOM types, so it is written as page source). */
const READ_PLAYER = `(() => {
  const el = document.querySelector('djcast-player');
  const root = el && el.shadowRoot;
  const media = el && el.media;
  return {
    defined: !!customElements.get('djcast-player'),
    time: media ? media.currentTime : 0,
    paused: media ? media.paused : true,
    engine: el ? el.engine : null,
    liveState: el ? el.liveState : null,
    label: root ? root.querySelector('button').getAttribute('aria-label') : null,
    now: root ? root.querySelector('.now').textContent : '',
  };
})()`;
const readPlayer = (where: Page | Frame): Promise<PlayerState> => where.evaluate(READ_PLAYER);

/** Waits until the player's currentTime has moved on by `seconds` from where it is now. */
async function expectAdvances(where: Page | Frame, what: string, seconds: number, timeoutMs = 45_000): Promise<void> {
  const from = (await readPlayer(where)).time;
  await waitFor(
    `${what}: currentTime to advance ${seconds} s past ${from.toFixed(1)}`,
    async () => {
      const s = await readPlayer(where);
      return !s.paused && s.time >= from + seconds;
    },
    timeoutMs,
    250,
  );
}

async function screenshot(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    // Nothing wider than the screen: no sideways scrolling on a phone.
    expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} at ${size} width`).toBeLessThanOrEqual(
      viewport.width,
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

describe('listener pages in Chromium: live stream, playlist, embeds on another origin', () => {
  let browser: Browser;
  let ice: IcecastServer;
  let dj: ToneSource | null = null;
  let server: ServerType;
  let other: Server;
  let t: TestApp;
  let baseUrl: string;
  let otherUrl: string;
  let token: string;
  let streamId: string;
  let playlistId: string;
  let workDir: string;
  const uploadIds: string[] = [];
  const consoleErrors: string[] = [];
  const pages: Page[] = [];

  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    pages.push(page);
    return page;
  };

  /** Uploads a generated MP3 tone and returns the upload id (processing goes on in the worker). */
  const uploadTone = async (title: string, seconds: number, frequency: number): Promise<string> => {
    const file = await generateTestMp3(path.join(workDir, `${frequency}-${seconds}.mp3`), { seconds, frequency });
    const body = multipartBody(await readFile(file), `${frequency}.mp3`);
    const res = await fetch(`${baseUrl}/v1/uploads/audio?title=${encodeURIComponent(title)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body,
    });
    return ((await res.json()) as { id: string }).id;
  };
  const waitReady = (ids: string[]) =>
    waitFor(
      'the uploads to be ready',
      async () => {
        const all = await Promise.all(ids.map((id) => api('GET', `/v1/uploads/audio/${id}`)));
        if (all.some((u) => u.status === 'failed' || u.status === 'rejected')) throw new Error(JSON.stringify(all));
        return all.every((u) => u.status === 'ready');
      },
      90_000,
      250,
    );

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
        `These tests drive Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium (scripts/install-system-deps.sh)`,
      );
    }
    try {
      defaultRelayCommand(process.execPath);
    } catch (error) {
      throw new Error(`This test runs the built relay worker: run pnpm build first (${String(error)})`);
    }
    await mkdir(SCREENSHOTS, { recursive: true });
    workDir = await mkdtemp(path.join(tmpdir(), 'djcast-pages-browser-'));
    const [launched, icecast] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] }),
      startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'admin-secret-42' }),
    ]);
    browser = launched;
    ice = icecast;
    dj = await tone(ice);
    await ice.setTitle('/live', 'First Tune - 440 Hz');

    // Listen first, then build the app knowing its own URL: the relay worker heartbeats to it.
    let handler: (req: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
    server = serve({ fetch: (req) => handler(req), port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await createTestApp('sqlite', {
      DJCAST_PUBLIC_URL: baseUrl,
      DJCAST_RELAY_LAUNCHER: 'process',
      DJCAST_RELAY_SEGMENT_SECONDS: '2',
      DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS: '1',
      DJCAST_RELAY_OFFLINE_AFTER_SECONDS: '6',
      DJCAST_RELAY_BACKOFF_INITIAL_MS: '250',
      DJCAST_RELAY_BACKOFF_MAX_MS: '1000',
      DJCAST_SOURCE_PROBE_TIMEOUT_SECONDS: '5',
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
    });
    handler = (req) => t.app.fetch(req);
    t.container.worker.start();

    // The other origin: a page on another port that embeds the players in iframes.
    other = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const src = url.searchParams.get('src') ?? '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html><head><link rel="icon" href="data:,"><title>A DJ's own site</title></head><body><h1>My site</h1>` +
          `<iframe src="${src.replace(/"/g, '&quot;')}" width="100%" height="152" style="border:0;max-width:640px" allow="autoplay"></iframe></body></html>`,
      );
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', () => resolve()));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;

    token = await registerDj(baseUrl, { display_name: 'DJ Sine', role: 'dj' });

    streamId = (await api('POST', '/v1/streams', { name: 'Friday set', source_url: `${ice.baseUrl}/`, mount: '/live' })).id;
    expect(streamId).toMatch(/^str_/);

    // Two short tracks, so the playlist player crosses from one title to the next.
    for (const [title, frequency] of [
      ['Opening Tone', 330],
      ['Closing Tone', 550],
    ] as const) {
      uploadIds.push(await uploadTone(title, 6, frequency));
    }
    const uploads = uploadIds;
    await waitReady(uploads);
    playlistId = (
      await api('POST', '/v1/playlists', { title: 'Sunday tones', items: uploads.map((upload_id) => ({ upload_id })) })
    ).id;
    await waitFor(
      'the stream to go live',
      async () => (await api('GET', `/v1/streams/${streamId}/status`)).state === 'live',
      60_000,
      250,
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (other ? other.close(() => resolve()) : resolve()));
    await dj?.stop();
    await ice?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  let livePage: Page;
  let liveEmbed: Frame;

  it('the live page loads without console errors, plays from the keyboard, and follows the source title', {
    timeout: 90_000,
  }, async () => {
    livePage = await newPage();
    await livePage.goto(`${baseUrl}/s/${streamId}`);
    await expect.poll(async () => (await readPlayer(livePage)).defined, { timeout: 15_000 }).toBe(true);
    expect(await livePage.locator('h1').textContent()).toBe('Friday set');
    await screenshot(livePage, 'stream-page');

    const button = livePage.locator('djcast-player button');
    expect(await button.getAttribute('aria-label')).toBe('Play Friday set');
    // The play button is the first stop of the keyboard, and its focus is visible.
    await livePage.keyboard.press('Tab');
    const focused = await livePage.evaluate(`(() => {
      const host = document.activeElement;
      const inner = host && host.shadowRoot && host.shadowRoot.activeElement;
      if (!inner) return null;
      const style = getComputedStyle(inner);
      return { host: host.tagName, label: inner.getAttribute('aria-label'), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    })()`);
    expect(focused).toMatchObject({ host: 'DJCAST-PLAYER', label: 'Play Friday set', outline: 'solid' });
    expect((focused as { width: number }).width).toBeGreaterThanOrEqual(2);
    await livePage.keyboard.press('Space');
    await expectAdvances(livePage, 'live page', 4);
    const state = await readPlayer(livePage);
    expect(state.label).toBe('Pause Friday set');
    expect(state.engine).toBe('native');
    expect(consoleErrors).toEqual([]);

    await waitFor(
      'the first title on the page',
      async () => (await livePage.locator('[data-role="now-playing"]').textContent()) === 'First Tune - 440 Hz',
      30_000,
      250,
    );
    await ice.setTitle('/live', 'Second Tune - 440 Hz');
    await waitFor(
      'the new title on the page, without a reload',
      async () =>
        (await livePage.locator('[data-role="now-playing"]').textContent()) === 'Second Tune - 440 Hz' &&
        (await readPlayer(livePage)).now === 'Second Tune - 440 Hz',
      30_000,
      250,
    );
    await screenshot(livePage, 'stream-page-playing');
  });

  it('the live embed plays with hls.js inside a page on another origin', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${otherUrl}/?src=${encodeURIComponent(`${baseUrl}/embed/s/${streamId}?engine=hls.js`)}`);
    liveEmbed = await waitFor('the embed frame', () => page.frames().find((f) => f.url().includes('/embed/s/')), 15_000, 100);
    await expect.poll(async () => (await readPlayer(liveEmbed)).defined, { timeout: 15_000 }).toBe(true);
    await liveEmbed.locator('djcast-player button').click();
    await expectAdvances(liveEmbed, 'live embed', 4);
    expect((await readPlayer(liveEmbed)).engine).toBe('hls.js');
    expect(consoleErrors).toEqual([]);
    await screenshot(page, 'stream-embed-other-origin');
    const direct = await newPage();
    await direct.goto(`${baseUrl}/embed/s/${streamId}`);
    await screenshot(direct, 'stream-embed');
    await direct.close();
  });

  it('both live players recover by themselves when the source drops and returns', { timeout: 120_000 }, async () => {
    await dj!.stop();
    dj = null;
    for (const [what, where] of [
      ['live page', livePage],
      ['live embed', liveEmbed],
    ] as const) {
      await waitFor(
        `${what} to show the stream is not live`,
        async () => (await readPlayer(where)).liveState !== 'live',
        45_000,
        250,
      );
    }
    expect(await livePage.locator('[data-role="live-badge"]').textContent()).toBe('Offline');
    await screenshot(livePage, 'stream-page-offline');
    dj = await tone(ice);
    for (const [what, where] of [
      ['live page', livePage],
      ['live embed', liveEmbed],
    ] as const) {
      await waitFor(
        `${what} to see the stream live again`,
        async () => (await readPlayer(where)).liveState === 'live',
        60_000,
        250,
      );
      await expectAdvances(where, `${what} after the source returned`, 4, 60_000);
    }
  });

  it('the playlist page plays stream.mp3 and names the track playing as it changes', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${baseUrl}/p/${playlistId}?engine=mp3`);
    await expect.poll(async () => (await readPlayer(page)).defined, { timeout: 15_000 }).toBe(true);
    expect(await page.locator('ol.tracks li').allTextContents()).toEqual(['Opening Tone0:06', 'Closing Tone0:06']);
    await screenshot(page, 'playlist-page');
    await page.locator('djcast-player button').click();
    await expectAdvances(page, 'playlist page', 3);
    expect((await readPlayer(page)).engine).toBe('mp3');
    expect((await readPlayer(page)).now).toBe('Opening Tone');
    await waitFor('the second track', async () => (await readPlayer(page)).now === 'Closing Tone', 30_000, 250);
    expect(consoleErrors).toEqual([]);
    await page.keyboard.press('Space'); // focus is on the button: Space pauses
    await waitFor('the pause', async () => (await readPlayer(page)).paused, 10_000, 100);
  });

  it('the playlist embed plays HLS inside a page on another origin', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${otherUrl}/?src=${encodeURIComponent(`${baseUrl}/embed/p/${playlistId}`)}`);
    const frame = await waitFor('the embed frame', () => page.frames().find((f) => f.url().includes('/embed/p/')), 15_000, 100);
    await expect.poll(async () => (await readPlayer(frame)).defined, { timeout: 15_000 }).toBe(true);
    await frame.locator('djcast-player button').click();
    await expectAdvances(frame, 'playlist embed', 3);
    expect((await readPlayer(frame)).engine).toBe('native');
    expect(consoleErrors).toEqual([]);
    await screenshot(page, 'playlist-embed-other-origin');
  });
  it('the podcast page plays an episode: its play link loads it into the player, and currentTime advances', {
    timeout: 150_000,
  }, async () => {
    const long = await uploadTone('Long Tone', 20, 440);
    await waitReady([long]);
    const podcast = await api('POST', '/v1/podcasts', {
      title: 'Tone Talk',
      description: '<p>Sine waves, <b>weekly</b>.</p>',
      author: 'DJ Sine',
      language: 'en',
      category: 'Music',
      explicit: false,
    });
    expect(podcast.id).toMatch(/^pod_/);
    const episodeIds: string[] = [];
    for (const [title, upload_id] of [
      ['The long tone', long],
      ['The short tone', uploadIds[0]!],
    ] as const) {
      const episode = await api('POST', `/v1/podcasts/${podcast.id}/episodes`, {
        title,
        description: `<p>Show notes of <em>${title}</em>.</p>`,
        upload_id,
        draft: true,
      });
      expect(episode.id, JSON.stringify(episode)).toMatch(/^epi_/);
      expect((await api('POST', `/v1/episodes/${episode.id}/publish`)).status).toBe('published');
      episodeIds.push(episode.id);
    }

    const page = await newPage();
    await page.goto(`${baseUrl}/c/${podcast.id}`);
    await expect.poll(async () => (await readPlayer(page)).defined, { timeout: 15_000 }).toBe(true);
    expect(await page.locator('h1').textContent()).toBe('Tone Talk');
    expect(await page.locator('ol.episodes h3').allTextContents()).toEqual(
      expect.arrayContaining(['The long tone', 'The short tone']),
    );
    await screenshot(page, 'podcast-page');
    // Selecting an episode loads it into the player.
    await page.locator('a.play[aria-label="Play The long tone"]').click();
    await page.waitForURL(`**/c/${podcast.id}?episode=${episodeIds[0]}*`);
    await expect.poll(async () => (await readPlayer(page)).defined, { timeout: 15_000 }).toBe(true);
    expect(await page.locator('djcast-player').getAttribute('src')).toBe(
      `${baseUrl}/podcasts/${podcast.id}/episodes/${episodeIds[0]}/media.mp3`,
    );
    await page.locator('djcast-player button').click();
    await expectAdvances(page, 'podcast episode', 5);
    const state = await readPlayer(page);
    expect(state.engine).toBe('mp3');
    expect(state.now).toBe('The long tone');
    expect(consoleErrors).toEqual([]);
    await screenshot(page, 'podcast-page-playing');
    const embed = await newPage();
    await embed.goto(`${baseUrl}/embed/c/${podcast.id}`);
    await screenshot(embed, 'podcast-embed');
  });
});
