import { SourceProbeError } from '@djcast/relay';
import { UrlNotAllowedError } from '@djcast/relay/net';
import { describe, expect, it } from 'vitest';
import { describeError, internalDetailOf, OUTBOUND_DETAIL, outboundCode, outboundProblem } from './outbound.js';

describe('outbound problems', () => {
  it('is url_not_allowed when the policy refused anywhere in the cause chain, else source_unreachable', () => {
    const refused = new UrlNotAllowedError('localhost resolves to 127.0.0.1');
    expect(outboundCode(refused)).toBe('url_not_allowed');
    expect(outboundCode(new Error('fetching x', { cause: refused }))).toBe('url_not_allowed');
    expect(outboundCode(new SourceProbeError('not_allowed', 'nope'))).toBe('url_not_allowed');
    expect(outboundCode(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }))).toBe(
      'source_unreachable',
    );
    expect(outboundCode(new SourceProbeError('timeout', 'slow'))).toBe('source_unreachable');
  });

  it('answers the same generic detail whatever the network said, and keeps the real cause for the log only', () => {
    const refusedPort = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    const jsonService = new SourceProbeError('unreachable', '10.0.0.5:8080 serves application/json');
    const a = outboundProblem(refusedPort);
    const b = outboundProblem(jsonService);
    expect([a.code, a.detail, a.extra]).toEqual(['source_unreachable', OUTBOUND_DETAIL.source_unreachable, {}]);
    expect([b.code, b.detail, b.extra]).toEqual([a.code, a.detail, a.extra]);
    expect(JSON.stringify(a)).not.toMatch(/ECONNREFUSED|10\.0\.0\.5/);
    expect(internalDetailOf(a)).toBe('Error: connect ECONNREFUSED 10.0.0.5:5432');
    expect(internalDetailOf(b)).toMatch(/serves application\/json/);
    expect(internalDetailOf(new Error('plain'))).toBeNull();
  });

  it('describes an error with its causes and errno code on one line', () => {
    const inner = Object.assign(new Error('getaddrinfo failed'), { code: 'ENOTFOUND' });
    expect(describeError(new Error('fetching x', { cause: inner }))).toBe(
      'Error: fetching x <- Error: getaddrinfo failed (ENOTFOUND)',
    );
  });
});
