// Kysely over postgres.js: single queries run on the pool, a transaction on one reserved
// connection from its begin to its commit or rollback, and the pool-usage gauge returns to 0.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../testing/index.js';
import { createDb, type Db } from './create-db.js';

describe('Postgres connections', () => {
  let db: Db;
  const schema = `t_pool_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    db = createDb({ url: TEST_POSTGRES_URL, schema, poolSize: 4 });
    await sql`create schema ${sql.id(schema)}`.execute(db.kysely);
    await sql`create table notes (id integer primary key, body text not null)`.execute(db.kysely);
  });
  afterAll(async () => {
    await sql`drop schema ${sql.id(schema)} cascade`.execute(db.kysely);
    await db.close();
  });

  const backendPid = async (q: Db['kysely']) =>
    (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(q)).rows[0]!.pid;

  it('runs a transaction on one connection, its session settings included, while other queries go on beside it', async () => {
    const [inside] = await Promise.all([
      db.kysely.transaction().execute(async (tx) => {
        const pids: number[] = [];
        await sql`set local statement_timeout = '4321ms'`.execute(tx);
        for (let i = 0; i < 5; i++) {
          pids.push(await backendPid(tx));
          // Unrelated queries on the pool while the transaction is open.
          await Promise.all(Array.from({ length: 8 }, (_, n) => sql`select ${n}::int as n`.execute(db.kysely)));
        }
        const shown = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(tx);
        return { pids, timeout: shown.rows[0]!.statement_timeout };
      }),
      Promise.all(Array.from({ length: 20 }, (_, n) => sql<{ n: number }>`select ${n}::int as n`.execute(db.kysely))),
    ]);
    expect(new Set(inside.pids).size).toBe(1);
    expect(inside.timeout).toBe('4321ms');
    // The setting was local to the transaction's connection: a query outside does not see it.
    const outside = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db.kysely);
    expect(outside.rows[0]!.statement_timeout).not.toBe('4321ms');
  });

  it('commits and rolls back what the transaction wrote, isolation level and all', async () => {
    await db.kysely.transaction().execute(async (tx) => {
      await sql`insert into notes (id, body) values (1, 'kept')`.execute(tx);
    });
    await expect(
      db.kysely
        .transaction()
        .setIsolationLevel('serializable')
        .execute(async (tx) => {
          await sql`insert into notes (id, body) values (2, 'dropped')`.execute(tx);
          throw new Error('undo');
        }),
    ).rejects.toThrow('undo');
    const rows = await sql<{ id: number; body: string }>`select id, body from notes order by id`.execute(db.kysely);
    expect(rows.rows).toEqual([{ id: 1, body: 'kept' }]);
  });

  it('answers many concurrent queries each with its own result, and reports the pool idle afterwards', async () => {
    const usage: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, n) => {
        const result = await sql<{ n: number }>`select ${n}::int as n`.execute(db.kysely);
        usage.push(db.poolUsage());
        return result.rows[0]!.n;
      }),
    );
    expect(answers).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(Math.max(...usage)).toBeLessThanOrEqual(1);
    expect(Math.max(...usage)).toBeGreaterThan(0);
    await expect(sql`select * from no_such_table`.execute(db.kysely)).rejects.toThrow(/no_such_table/);
    expect(db.poolUsage()).toBe(0);
    await db.kysely.transaction().execute(async (tx) => backendPid(tx));
    expect(db.poolUsage()).toBe(0);
  });
});
