import { DjcastApiError, DjcastConnectionError } from '@djcast/sdk';
import { describe, expect, it } from 'vitest';
import { CliError, describeError, EXIT, NotLoggedInError, UsageError, WaitTimeoutError } from './errors.js';

const problem = (code: string, status: number, detail: string, extra: Record<string, unknown> = {}) => {
  const body = {
    type: `https://djcast.dev/problems/${code}`,
    title: 'A title',
    status,
    detail,
    code,
    request_id: 'req_123',
    ...extra,
  };
  return DjcastApiError.fromResponse(
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } }),
    body,
  );
};

describe('describeError', () => {
  it('prints an API error as one line naming the code and request id, and exits 1', () => {
    const report = describeError(problem('not_found', 404, 'Stream str_1 does not exist'));
    expect(report.exitCode).toBe(EXIT.failed);
    expect(report.lines).toEqual(['Error: Stream str_1 does not exist (not_found, request req_123)']);
    expect(report.json).toMatchObject({ code: 'not_found', request_id: 'req_123', status: 404 });
  });

  it('maps a rejected token to exit 3 with the login hint', () => {
    const report = describeError(problem('invalid_token', 401, 'The access token is invalid or expired.'));
    expect(report.exitCode).toBe(EXIT.notLoggedIn);
    expect(report.lines[1]).toBe('Run `djcast login` or set DJCAST_TOKEN.');
  });

  it('keeps wrong credentials at exit 1: that is a failed login, not a missing one', () => {
    const report = describeError(problem('invalid_credentials', 401, 'Email or password is incorrect.'));
    expect(report.exitCode).toBe(EXIT.failed);
    expect(report.lines[1]).toMatch(/Check the email and password/);
  });

  it('adds field errors the detail does not already name', () => {
    const report = describeError(
      problem('validation_failed', 400, 'name: Too small', {
        errors: [
          { path: 'name', message: 'Too small' },
          { path: 'source_url', message: 'must be an http:// or https:// URL' },
        ],
      }),
    );
    expect(report.lines).toEqual([
      'Error: name: Too small (validation_failed, request req_123)',
      '  source_url: must be an http:// or https:// URL',
    ]);
  });

  it('treats a 5xx as a server problem and quotes the request id', () => {
    const report = describeError(problem('internal', 500, 'Something went wrong on our side.'));
    expect(report.exitCode).toBe(EXIT.failed);
    expect(report.lines[1]).toBe('This is a problem on the server. Quote request req_123 if you report it.');
  });

  it('shows the stack under DEBUG only', () => {
    const error = problem('internal', 500, 'Boom');
    expect(describeError(error).lines.join('\n')).not.toContain('at ');
    expect(describeError(error, { debug: true }).lines.at(-1)).toBe(error.stack);
  });

  it('reports an unreachable server with what to check', () => {
    const error = new DjcastConnectionError({
      url: 'http://127.0.0.1:9/healthz',
      method: 'GET',
      attempts: 3,
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    const report = describeError(error);
    expect(report.lines[0]).toBe('Error: Could not reach the djcast API at http://127.0.0.1:9 (ECONNREFUSED).');
    expect(report.json).toMatchObject({ code: 'unreachable' });
  });

  it('gives each CLI error kind its exit code and hint', () => {
    expect(describeError(new UsageError('Missing --email.', 'Pass --email.'))).toMatchObject({
      exitCode: 2,
      lines: ['Error: Missing --email.', 'Pass --email.'],
    });
    expect(describeError(new NotLoggedInError()).exitCode).toBe(3);
    expect(describeError(new WaitTimeoutError('Timed out.', { status: 'starting' })).exitCode).toBe(4);
    expect(describeError(new CliError('Cancelled.')).json).toEqual({ code: 'failed', detail: 'Cancelled.' });
  });

  it('calls anything else a bug and points at DEBUG', () => {
    const report = describeError(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(report.exitCode).toBe(1);
    expect(report.lines[1]).toMatch(/bug in djcast.*DEBUG=1/);
    expect(report.json.code).toBe('cli_bug');
  });
});
