import type { z } from '@hono/zod-openapi';
import type { FieldError } from '../core/errors.js';

/**
 * Paths of every string in a validated request part (body, query, params)
 * that holds a NUL byte. Postgres cannot store one in text, so such input
 * would otherwise reach the database and fail there as a 500. Checked once,
 * in the validation hook, for every string of every schema.
 */
export function nulBytePaths(value: unknown, path: string[] = []): string[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [path.join('.')] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => nulBytePaths(item, [...path, String(i)]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(k.includes('\u0000') ? [[...path, k.replaceAll('\u0000', '\\0')].join('.')] : []),
      ...nulBytePaths(v, [...path, k]),
    ]);
  }
  return [];
}

export function zodIssues(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
    code: issue.code,
  }));
}

/** The field errors of one validation result: zod's issues, or NUL bytes in otherwise valid strings. */
export function validationErrors(result: { success: true; data: unknown } | { success: false; error: z.ZodError }): FieldError[] {
  if (!result.success) return zodIssues(result.error);
  return nulBytePaths(result.data).map((path) => ({ path, message: 'must not contain a NUL byte', code: 'nul_byte' }));
}
