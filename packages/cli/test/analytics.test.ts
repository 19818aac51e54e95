// `djcast analytics stream|playlist|podcast|ads`: the built binary against the
// real API server on loopback, with daily aggregates in its database (the
// fold itself is tested in the server's analytics tests).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createDjcastClient } from '@djcast/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../../sdk/test/support/server.js';
import { cliSandbox, removeSandboxes } from './support/run-cli.js';

describe('djcast analytics', { timeout: 120_000 }, () => {
  let server: TestServer;
  let http: Listening;
  let cli: ReturnType<typeof cliSandbox>;
  let token = '';
  let streamId = '';

  beforeAll(async () => {
    await ensureBuilt('cli');
    server = await startTestServer();
    http = await listen(server.fetch);
    cli = cliSandbox(http.url);
    const anon = createDjcastClient({ baseUrl: http.url });
    const email = uniqueEmail('analytics');
    await anon.auth.register({ email, password: PASSWORD, display_name: 'DJ Charts', role: 'dj' });
    const session = createDjcastClient({ baseUrl: http.url, credentials: { email, password: PASSWORD } });
    token = (await session.tokens.create({ name: 'analytics', scopes: ['streams:write', 'streams:read', 'analytics:read'] }))
      .token;
    const client = createDjcastClient({ baseUrl: http.url, token });
    streamId = (await client.streams.create({ name: 'Charts', source_url: server.sourceUrl })).id;
    const rows = [
      ['2025-06-01', 12, 5, 3600],
      ['2025-06-02', 30, 9, 7200],
      ['2025-06-03', 18, 6, 5400],
    ].flatMap(([day, unique, peak, seconds]) => [
      {
        resource_id: streamId,
        resource_kind: 'stream',
        day: day as string,
        sub_id: '',
        metric: 'unique_listeners',
        value: unique as number,
      },
      {
        resource_id: streamId,
        resource_kind: 'stream',
        day: day as string,
        sub_id: '',
        metric: 'peak_concurrent',
        value: peak as number,
      },
      {
        resource_id: streamId,
        resource_kind: 'stream',
        day: day as string,
        sub_id: '',
        metric: 'listening_seconds',
        value: seconds as number,
      },
    ]);
    await server.container.db.kysely.insertInto('analytics_daily').values(rows).execute();
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
    removeSandboxes();
  });

  const run = (args: string[]) => cli.run(args, { env: { DJCAST_TOKEN: token } });

  it('prints a summary, a table of the days and a chart on stdout', async () => {
    const result = await run(['analytics', 'stream', streamId, '--from', '2025-06-01', '--to', '2025-06-03']);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`stream ${streamId} · 2025-06-01 to 2025-06-03`);
    expect(out).toMatch(/peak listeners: +9/);
    expect(out).toMatch(/listening hours: +4\.5/);
    expect(out).toMatch(/│ 2025-06-02 │ 30 +│ 9 +│ 2 +│/);
    expect(out).toContain('unique listeners per day');
    expect(out).toMatch(/30 ┤/); // the chart's top label
  });

  it('--json prints the API object and nothing else', async () => {
    const result = await run(['analytics', 'stream', streamId, '--from', '2025-06-01', '--to', '2025-06-03', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.peak_listeners).toBe(9);
    expect(body.daily_listeners).toHaveLength(3);
  });

  it('--csv FILE writes the export', async () => {
    const file = path.join(cli.home, 'stream.csv');
    const result = await run(['analytics', 'stream', streamId, '--from', '2025-06-01', '--to', '2025-06-02', '--csv', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toEqual([
      'date,metric,value',
      '2025-06-01,unique_listeners,12',
      '2025-06-01,peak_concurrent,5',
      '2025-06-01,listening_hours,1',
      '2025-06-02,unique_listeners,30',
      '2025-06-02,peak_concurrent,9',
      '2025-06-02,listening_hours,2',
    ]);
    expect(result.stderr).toContain(`Wrote the CSV export to ${file}`);
  });

  it('a bad date is a usage error (exit 2); a range the API refuses is one line and exit 1', async () => {
    const bad = await run(['analytics', 'stream', streamId, '--from', 'June']);
    expect(bad.code).toBe(2);
    const refused = await run(['analytics', 'stream', streamId, '--from', '2025-06-07', '--to', '2025-06-01']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('from');
    expect(refused.stdout).toBe('');
  });

  it('ads: impressions, completions and completion rate per day, per marker, as a table, a chart, CSV and JSON', async () => {
    const marker = 'adm_01jd0v9m3x7k2p8q4r5s6t7u8v';
    await server.container.db.kysely
      .insertInto('analytics_daily')
      .values(
        [
          ['2025-06-01', 'ad_impressions', 3],
          ['2025-06-01', 'ad_completions', 2],
          ['2025-06-02', 'ad_impressions', 8],
          ['2025-06-02', 'ad_completions', 8],
        ].map(([day, metric, value]) => ({
          resource_id: streamId,
          resource_kind: 'stream',
          day: day as string,
          sub_id: marker,
          metric: metric as string,
          value: value as number,
        })),
      )
      .execute();
    const result = await run(['analytics', 'ads', streamId, '--from', '2025-06-01', '--to', '2025-06-03']);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`ads ${streamId} · 2025-06-01 to 2025-06-03`);
    expect(out).toMatch(/impressions: +11/);
    expect(out).toMatch(/completion rate: +90\.9%/);
    expect(out).toContain(`${marker}: 11 impressions, 10 completed (90.9%)`);
    expect(out).toMatch(/│ 2025-06-01 │ 3 +│ 2 +│ 66\.7% +│/);
    expect(out).toMatch(/│ 2025-06-03 │ 0 +│ 0 +│ – +│/);
    expect(out).toContain('impressions per day');

    const json = await run(['analytics', 'ads', streamId, '--from', '2025-06-01', '--to', '2025-06-02', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const body = JSON.parse(json.stdout);
    expect([body.impressions, body.completions, body.completion_rate]).toEqual([11, 10, 0.9091]);
    expect(body.markers.map((m: { marker_id: string }) => m.marker_id)).toEqual([marker]);

    const file = path.join(cli.home, 'ads.csv');
    const csv = await run(['analytics', 'ads', streamId, '--from', '2025-06-02', '--to', '2025-06-02', '--csv', file]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toEqual([
      'date,metric,value',
      '2025-06-02,impressions,8',
      '2025-06-02,completions,8',
      '2025-06-02,completion_rate,1',
      `2025-06-02,impressions:${marker},8`,
      `2025-06-02,completions:${marker},8`,
      `2025-06-02,completion_rate:${marker},1`,
    ]);

    const wrong = await run(['analytics', 'ads', 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('neither a playlist');
  });
});
