import { z } from '@hono/zod-openapi';

export const PaginationQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  starting_after: z
    .string()
    .regex(/^[a-z]{3}_[0-9a-z]{26}$/)
    .optional()
    .openapi({ param: { name: 'starting_after', in: 'query' }, description: 'Return items after this id (from next_cursor).' }),
});

export function listSchema<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      data: z.array(item),
      has_more: z.boolean(),
      next_cursor: z.string().nullable(),
    })
    .openapi(name);
}

/** Cursor pagination over time-sortable ids, newest first: fetch limit + 1 to know has_more. */
export function page<T extends { id: string }>(rows: T[], limit: number) {
  const data = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { data, has_more: hasMore, next_cursor: hasMore ? (data.at(-1)?.id ?? null) : null };
}
