import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while a request is being handled carries. */
export interface RequestLogContext {
  request_id: string;
  /** From the caller's W3C traceparent, when it sent a valid one. */
  trace_id?: string;
  /** The caller's span (the parent of this request's work). */
  span_id?: string;
}

/**
 * The request a piece of code runs for, through every await: the logger's
 * mixin reads it, so a service's log line carries the request and trace ids
 * without being handed them.
 */
export const requestContext = new AsyncLocalStorage<RequestLogContext>();

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Parses a W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header).
 * Returns null for anything invalid: version ff, all-zero ids, wrong lengths, upper case, or
 * (version 00) trailing data.
 */
export function parseTraceparent(header: string | undefined): { traceId: string; spanId: string } | null {
  if (!header || header.length > 512) return null;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return null;
  const [, version, traceId, spanId, , rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return null;
  return { traceId: traceId!, spanId: spanId! };
}

/**
 * The logger's mixin: the current request's ids, or nothing outside a request. A fresh object
 * each time: pino merges the line's own fields into what the mixin returns.
 */
export function requestLogFields(): object {
  const store = requestContext.getStore();
  return store ? { ...store } : {};
}
