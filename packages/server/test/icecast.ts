// Real Icecast for the server's tests: the relay package's Icecast + FFmpeg
// tone harness (packages/relay/test/icecast.ts). It lives outside this
// package's TypeScript root, so it is loaded at run time and typed here by the
// part the tests use. Also: a DJ registered over real HTTP, for the tests that
// run the server on a port of its own.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STRONG_PASSWORD, uniqueEmail } from './harness.js';

export interface IcecastServer {
  baseUrl: string;
  setTitle(mount: string, title: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ToneSource {
  stop(): Promise<void>;
}

interface IcecastHarness {
  startIcecast(options: { sourcePassword: string; adminPassword: string }): Promise<IcecastServer>;
  startToneSource(
    baseUrl: string,
    mount: string,
    password: string,
    /** `lavfi`: the encoder's own FFmpeg lavfi source instead of a steady tone. */
    options: { format: 'mp3' | 'aac'; bitrateKbps: number; lavfi?: string; frequency?: number; sampleRate?: number },
  ): Promise<ToneSource>;
}

const harness = (await import(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../relay/test/icecast.ts')
)) as IcecastHarness;

export const startIcecast: IcecastHarness['startIcecast'] = harness.startIcecast;
export const startToneSource: IcecastHarness['startToneSource'] = harness.startToneSource;

/** Registers a DJ on a server listening at `baseUrl` and logs in: the access token. */
export async function registerDj(baseUrl: string, profile: { display_name?: string; role?: 'dj' } = {}): Promise<string> {
  const email = uniqueEmail();
  const post = (route: string, body: unknown) =>
    fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const registered = await post('/v1/auth/register', { email, password: STRONG_PASSWORD, ...profile });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  const login = await post('/v1/auth/login', { email, password: STRONG_PASSWORD });
  if (login.status !== 200) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  return ((await login.json()) as { access_token: string }).access_token;
}
