export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Walks a cursor-paginated list endpoint, one request per page, yielding items. */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.data;
    if (!page.has_more || !page.next_cursor) return;
    cursor = page.next_cursor;
  }
}
