// Queries compiled once and run with new parameters: the same rows as Kysely building them
// each time, on both dialects, and a loud failure for an argument that is not one plain parameter.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL } from '../testing/index.js';
import { createDb, type Db } from './create-db.js';
import { precompiled } from './precompiled.js';

type Q = Db['kysely'];

describe.each(['sqlite', 'postgres'] as const)('precompiled (%s)', (dialect) => {
  let db: Db;
  const schema = `t_pre_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  beforeAll(async () => {
    db = dialect === 'sqlite' ? createDb({ url: 'sqlite::memory:' }) : createDb({ url: TEST_POSTGRES_URL, schema });
    if (dialect === 'postgres') await sql`create schema ${sql.id(schema)}`.execute(db.kysely);
    await sql`create table api_tokens (id text primary key, token_hash text, user_id text, scopes text)`.execute(db.kysely);
    for (const [id, hash, user] of [
      ['tok_a', 'h1', 'usr_1'],
      ['tok_b', 'h2', 'usr_1'],
      ['tok_c', 'h3', 'usr_2'],
    ]) {
      await sql`insert into api_tokens (id, token_hash, user_id, scopes) values (${id}, ${hash}, ${user}, '[]')`.execute(
        db.kysely,
      );
    }
  });
  afterAll(async () => {
    if (dialect === 'postgres') await sql`drop schema ${sql.id(schema)} cascade`.execute(db.kysely);
    await db.close();
  });

  it('builds once per database and answers each call with its own parameters, as the built query does', async () => {
    let builds = 0;
    const byHash = precompiled((q: Q, hash: string) => {
      builds += 1;
      return q.selectFrom('api_tokens').select(['id', 'user_id']).where('token_hash', '=', hash);
    });
    for (const hash of ['h2', 'h1', 'h3', 'nope']) {
      const expected = await db.kysely
        .selectFrom('api_tokens')
        .select(['id', 'user_id'])
        .where('token_hash', '=', hash)
        .execute();
      expect(await byHash(db.kysely, hash)).toEqual(expected);
    }
    expect(await byHash(db.kysely, 'h3')).toEqual([{ id: 'tok_c', user_id: 'usr_2' }]);
    expect(builds).toBe(1);
  });

  it('keeps the constants the query was built with and puts each argument in its own place', async () => {
    const byUserAndId = precompiled((q: Q, userId: string, id: string) =>
      q.selectFrom('api_tokens').select('id').where('scopes', '=', '[]').where('id', '=', id).where('user_id', '=', userId),
    );
    expect(await byUserAndId(db.kysely, 'usr_1', 'tok_b')).toEqual([{ id: 'tok_b' }]);
    expect(await byUserAndId(db.kysely, 'usr_2', 'tok_b')).toEqual([]);
    expect(await byUserAndId(db.kysely, 'usr_2', 'tok_c')).toEqual([{ id: 'tok_c' }]);
  });

  it('runs inside a transaction on the transaction', async () => {
    const byId = precompiled((q: Q, id: string) => q.selectFrom('api_tokens').select('user_id').where('id', '=', id));
    const seen = await db.kysely.transaction().execute(async (tx) => {
      await sql`insert into api_tokens (id, token_hash, user_id, scopes) values ('tok_tx', 'htx', 'usr_9', '[]')`.execute(tx);
      return byId(tx, 'tok_tx');
    });
    expect(seen).toEqual([{ user_id: 'usr_9' }]);
  });

  it('refuses an argument that is not exactly one parameter, naming the SQL', async () => {
    const twice = precompiled((q: Q, id: string) =>
      q.selectFrom('api_tokens').select('id').where('id', '=', id).where('token_hash', '=', id),
    );
    await expect(twice(db.kysely, 'tok_a')).rejects.toThrow(/argument 0 must be exactly one parameter of: select/);
    const unused = precompiled((q: Q, _id: string) => q.selectFrom('api_tokens').select('id'));
    await expect(unused(db.kysely, 'tok_a')).rejects.toThrow(/argument 0/);
  });
});
