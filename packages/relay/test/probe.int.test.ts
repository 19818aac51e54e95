import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeSource, SourceProbeError } from '../src/probe.js';
import { type IcecastServer, mountIsLive, startIcecast, startToneSource, type ToneSource } from './icecast.js';

describe('probeSource against a real Icecast 2', () => {
  let ice: IcecastServer;
  let dj: ToneSource;

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: 'src-secret', adminPassword: 'admin-secret' });
    dj = await startToneSource(ice.baseUrl, '/live', 'src-secret', { format: 'mp3', bitrateKbps: 128 });
    await ice.setTitle('/live', 'Kiasmos - Blurred, Live, 2015');
  });
  afterAll(async () => {
    await dj?.stop();
    await ice?.stop();
  });

  it('recognises Icecast from its Server header and status-json.xsl', async () => {
    const result = await probeSource(ice.url('/live'), { allowPrivate: true, timeoutMs: 5000 });
    expect(result).toMatchObject({
      url: ice.url('/live'),
      kind: 'icecast',
      statsUrl: `${ice.baseUrl}/status-json.xsl`,
      contentType: 'audio/mpeg',
      stats: { currentTrack: 'Kiasmos - Blurred, Live, 2015', contentType: 'audio/mpeg' },
    });
    // FFmpeg's icecast output announces no bitrate, and Icecast has none to report.
    expect(result.bitrateKbps).toBeNull();
    expect(result.stats?.listeners).toBeGreaterThanOrEqual(0);
  });

  it("reports a mount with no source as unreachable, with Icecast's 404", async () => {
    const err = await probeSource(ice.url('/nobody-here'), { allowPrivate: true, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceProbeError);
    expect((err as SourceProbeError).reason).toBe('unreachable');
    expect((err as SourceProbeError).message).toMatch(/404/);
  });

  it('the harness really streams: the mount is listed while the tone runs', async () => {
    expect(await mountIsLive(ice.baseUrl, '/live')).toBe(true);
    expect(await mountIsLive(ice.baseUrl, '/other')).toBe(false);
  });
});
