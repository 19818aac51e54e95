import { DjcastApiError, DjcastConnectionError } from '@djcast/sdk';
import { describe, expect, it } from 'vitest';
import { renderDoctor, runDoctor, versionsCompatible } from './doctor.js';

const health = async () => ({ status: 'ok' as const, version: '0.1.3', backends: { database: 'postgres', storage: 's3' } });

describe('versionsCompatible', () => {
  it('needs the same major, and the same minor while the major is 0', () => {
    expect(versionsCompatible('0.1.0', '0.1.9')).toBe(true);
    expect(versionsCompatible('0.1.0', '0.2.0')).toBe(false);
    expect(versionsCompatible('1.2.0', '1.9.1')).toBe(true);
    expect(versionsCompatible('1.2.0', '2.0.0')).toBe(false);
    expect(versionsCompatible('1.2.0', 'dev')).toBe(false);
  });
});

describe('runDoctor', () => {
  it('reports an unreachable server and stops there', async () => {
    const report = await runDoctor({
      apiUrl: 'http://127.0.0.1:9',
      cliVersion: '0.1.0',
      health: async () => {
        throw new DjcastConnectionError({
          url: 'http://127.0.0.1:9/healthz',
          method: 'GET',
          attempts: 1,
          cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
        });
      },
    });
    expect(report).toMatchObject({
      reachable: false,
      error: 'Could not reach the djcast API at http://127.0.0.1:9 (ECONNREFUSED)',
    });
    expect(renderDoctor(report)).toEqual([
      '✗ API        http://127.0.0.1:9 is not reachable: Could not reach the djcast API at http://127.0.0.1:9 (ECONNREFUSED)',
    ]);
  });

  it('lists every backend and who is logged in', async () => {
    const report = await runDoctor({
      apiUrl: 'http://api',
      cliVersion: '0.1.0',
      health,
      me: async () => ({ id: 'usr_1', email: 'dj@example.com', display_name: null, role: 'dj', scopes: [], created_at: '' }),
      via: 'DJCAST_TOKEN',
    });
    expect(report).toMatchObject({
      reachable: true,
      server_version: '0.1.3',
      versions_compatible: true,
      auth: { status: 'logged_in', email: 'dj@example.com' },
    });
    expect(renderDoctor(report)).toEqual([
      '✓ API        http://api is reachable',
      '✓ Version    server 0.1.3, cli 0.1.0',
      '✓ Backends',
      '    database  postgres',
      '    storage   s3',
      '✓ Auth       logged in as dj@example.com via DJCAST_TOKEN',
    ]);
  });

  it('says when the credential is rejected', async () => {
    const body = {
      type: 't',
      title: 't',
      status: 401,
      detail: 'The access token is invalid or expired.',
      code: 'invalid_token',
      request_id: 'req_1',
    };
    const report = await runDoctor({
      apiUrl: 'http://api',
      cliVersion: '0.1.0',
      health,
      me: async () => {
        throw DjcastApiError.fromResponse(new Response(null, { status: 401 }), body);
      },
      via: 'the stored login',
    });
    expect(report.auth).toEqual({
      status: 'rejected',
      via: 'the stored login',
      detail: 'The access token is invalid or expired.',
    });
  });
});
