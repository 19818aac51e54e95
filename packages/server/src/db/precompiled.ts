import type { Compilable, CompiledQuery, Kysely, Transaction } from 'kysely';
import type { Database } from './tables.js';

type Q = Kysely<Database> | Transaction<Database>;

const MARK = '\u0000djcast-precompiled-parameter-';

interface Compiled {
  query: CompiledQuery<unknown>;
  /** Per compiled parameter: the index of the caller's argument it takes, or -1 for a constant. */
  slots: number[];
}

/**
 * A query built and compiled once per database, then run with new parameter values. Kysely
 * builds the operation tree and compiles it to SQL on every call, about a tenth of the CPU of
 * an authenticated GET; the queries every API request runs (the token lookup, a resource by id)
 * are the same text every time and differ only in their parameters.
 *
 * `build` is called once per database with markers in place of its arguments. Each argument
 * must reach the compiled query as exactly one parameter, unchanged: one used anywhere else (a
 * column name, a transformed value) fails the first call instead of running the wrong SQL.
 */
export function precompiled<P extends string[], R>(
  build: (db: Q, ...params: P) => Compilable<R>,
): (db: Q, ...params: P) => Promise<R[]> {
  const arity = build.length - 1;
  const byDb = new WeakMap<Q, Compiled>();
  const compile = (db: Q): Compiled => {
    const markers = Array.from({ length: arity }, (_, i) => `${MARK}${i}`) as P;
    const query = build(db, ...markers).compile() as CompiledQuery<unknown>;
    const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1));
    for (let i = 0; i < arity; i++) {
      if (slots.filter((s) => s === i).length !== 1) {
        throw new Error(`precompiled query: argument ${i} must be exactly one parameter of: ${query.sql}`);
      }
    }
    const compiled = { query, slots };
    byDb.set(db, compiled);
    return compiled;
  };
  return async (db, ...params) => {
    const { query, slots } = byDb.get(db) ?? compile(db);
    const parameters = slots.map((slot, i) => (slot < 0 ? query.parameters[i] : params[slot]));
    const result = await db.executeQuery<R>({ ...query, parameters } as CompiledQuery<R>);
    return result.rows;
  };
}
