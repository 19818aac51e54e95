// The prepared-statement cache under Kysely's SqliteDialect: one prepare per distinct SQL
// text, least recently used texts evicted past the size, a statement still iterating never
// handed out twice, and queries through Kysely answer as before.
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from './create-db.js';

/** A database whose prepare() calls are counted by SQL text. */
function countingDatabase() {
  const database = new SQLite(':memory:');
  const prepared: string[] = [];
  const counting = new Proxy(database, {
    get(target, prop) {
      if (prop === 'prepare') {
        return (text: string) => {
          prepared.push(text);
          return target.prepare(text);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { database, counting, prepared };
}

describe('withStatementCache', () => {
  const open: SQLite.Database[] = [];
  afterEach(() => {
    for (const d of open.splice(0)) d.close();
  });

  it('prepares each SQL text once and answers repeats from the cache', () => {
    const { database, counting, prepared } = countingDatabase();
    open.push(database);
    const cached = withStatementCache(counting);
    cached.exec('create table t (id integer primary key, name text)');
    const insert = 'insert into t (name) values (?)';
    for (const name of ['a', 'b', 'c']) cached.prepare(insert).run(name);
    for (let i = 0; i < 5; i++) expect(cached.prepare('select count(*) as n from t').get()).toEqual({ n: 3 });
    expect(prepared.filter((s) => s === insert)).toHaveLength(1);
    expect(prepared.filter((s) => s.startsWith('select'))).toHaveLength(1);
    expect(cached.prepare(insert)).toBe(cached.prepare(insert));
  });

  it('evicts the least recently used text past its size', () => {
    const { database, counting, prepared } = countingDatabase();
    open.push(database);
    const cached = withStatementCache(counting, 2);
    const [a, b, c] = ['select 1', 'select 2', 'select 3'];
    cached.prepare(a);
    cached.prepare(b);
    cached.prepare(a); // a is now the most recent
    cached.prepare(c); // evicts b
    cached.prepare(a);
    cached.prepare(b); // prepared again
    expect(prepared).toEqual([a, b, c, b]);
  });

  it('gives a fresh statement while the cached one is still iterating', () => {
    const { database, counting } = countingDatabase();
    open.push(database);
    const cached = withStatementCache(counting);
    cached.exec('create table t (id integer primary key); insert into t values (1), (2), (3)');
    const text = 'select id from t order by id';
    const outer = cached.prepare(text).iterate() as IterableIterator<{ id: number }>;
    expect(outer.next().value).toEqual({ id: 1 });
    // The cached statement is busy: running the same text again must not throw.
    expect(cached.prepare(text).all()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect([...outer]).toEqual([{ id: 2 }, { id: 3 }]);
  });

  it('serves Kysely queries, transactions and streams with the same results', async () => {
    const { database, counting, prepared } = countingDatabase();
    const db = new Kysely<{ t: { id: number; name: string } }>({
      dialect: new SqliteDialect({ database: withStatementCache(counting) }),
    });
    try {
      await sql`create table t (id integer primary key, name text not null)`.execute(db);
      await db.transaction().execute(async (trx) => {
        for (let i = 1; i <= 50; i++)
          await trx
            .insertInto('t')
            .values({ id: i, name: `n${i}` })
            .execute();
      });
      for (let i = 1; i <= 50; i++) {
        const row = await db.selectFrom('t').selectAll().where('id', '=', i).executeTakeFirstOrThrow();
        expect(row).toEqual({ id: i, name: `n${i}` });
      }
      const streamed: number[] = [];
      for await (const row of db.selectFrom('t').select('id').orderBy('id').stream()) streamed.push(row.id);
      expect(streamed).toHaveLength(50);
      // One insert text and one select-by-id text for 50 rows each.
      expect(prepared.filter((s) => s.startsWith('insert'))).toHaveLength(1);
      expect(prepared.filter((s) => s.startsWith('select * from "t" where "id" = ?'))).toHaveLength(1);
    } finally {
      await db.destroy();
    }
    expect(database.open).toBe(false);
  });
});
