import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';
import { PostgresJSDialect } from 'kysely-postgres-js';
import postgres from 'postgres';
import { migrations } from './migrations/index.js';
import type { Database } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** Connections in use / pool size, for the db_connection_pool_usage gauge. */
  poolUsage(): number;
  close(): Promise<void>;
}

export interface DbOptions {
  url: string;
  /** Postgres schema to use (created if missing); tests give each run its own. */
  schema?: string;
  poolSize?: number;
}

export function createDb(options: DbOptions): Db {
  if (options.url.startsWith('sqlite:')) return createSqlite(options.url.slice('sqlite:'.length));
  if (/^postgres(ql)?:/.test(options.url)) return createPostgres(options);
  throw new Error('database URL must start with sqlite: or postgres://');
}

function createSqlite(file: string): Db {
  if (file !== ':memory:') createPrivateFile(file);
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // In WAL mode NORMAL stays consistent after a crash and skips the fsync per commit, which
  // better-sqlite3 would otherwise wait out on the event loop (several ms per write).
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return {
    kysely,
    dialect: 'sqlite',
    ping: () => ping(kysely),
    poolUsage: () => 1,
    close: () => kysely.destroy(),
  };
}

/** Prepared statements kept per database: far more than the distinct SQL texts the server issues. */
export const STATEMENT_CACHE_SIZE = 500;

type Statement = ReturnType<SQLite.Database['prepare']>;

/**
 * The database as Kysely's SqliteDialect sees it, with `prepare(sql)` answered from an LRU
 * map of prepared statements keyed by the SQL text. Kysely prepares every query again, and
 * compiling the SQL was the largest single cost of a simple API request (about 12% of busy
 * CPU under load). Kysely compiles the same query builder to the same text with `?`
 * placeholders, so the number of distinct texts is small and bounded by the code. A
 * statement still running (an unfinished iterate()) is never handed out twice: a busy one
 * gets a fresh statement. SQLite re-prepares a cached statement by itself after a schema
 * change (migrations).
 */
export function withStatementCache(database: SQLite.Database, size = STATEMENT_CACHE_SIZE): SQLite.Database {
  const cache = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    const cached = cache.get(sql);
    if (cached && !cached.busy) {
      // Most recently used last: Map keeps insertion order, so the first key is the oldest.
      cache.delete(sql);
      cache.set(sql, cached);
      return cached;
    }
    const statement = database.prepare(sql);
    if (!cached) {
      cache.set(sql, statement);
      const oldest = cache.size > size ? cache.keys().next().value : undefined;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return statement;
  };
  return new Proxy(database, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The database file (and so its -wal and -shm files, which SQLite creates
 * with the database's mode) readable by the server's user alone; a missing
 * folder is created 0700.
 */
function createPrivateFile(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

function createPostgres({ url, schema, poolSize = 10 }: DbOptions): Db {
  let active = 0;
  const client = postgres(url, {
    max: poolSize,
    onnotice: () => {},
    connection: schema ? { search_path: schema } : {},
    transform: { undefined: null },
  });
  // postgres.js keeps no public count of busy connections: count reserved connections and
  // queries in flight on the pool (pipelined queries can outnumber connections: capped at 1).
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'reserve') return async () => reserveOnBegin(target, (delta) => (active = Math.max(0, active + delta)));
      return Reflect.get(target, prop, receiver);
    },
  });
  const kysely = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: counted }) });
  return {
    kysely,
    dialect: 'postgres',
    ping: () => ping(kysely),
    poolUsage: () => Math.min(1, active / poolSize),
    close: () => kysely.destroy(),
  };
}

type Pool = ReturnType<typeof postgres>;
type Reserved = Awaited<ReturnType<Pool['reserve']>>;

const BEGINS_TRANSACTION = /^\s*(begin|start\s+transaction)\b/i;

/**
 * What Kysely's postgres.js driver is given for `reserve()`: a connection reserved only when a
 * transaction begins on it. Kysely takes a connection for every query, and a reservation per
 * query (taken from the pool, then handed back) cost more than the query on Postgres; a
 * single query needs no session of its own, so it runs on the pool, where postgres.js also
 * writes queries that wait for the same connection in one go. A transaction (`begin`, or
 * `start transaction` with an isolation level) and every query after it on this connection
 * (through commit or rollback) run on one reserved connection, as before.
 */
export function reserveOnBegin(pool: Pool, count: (delta: number) => void) {
  let reserved: Reserved | undefined;
  return {
    unsafe(text: string, parameters?: unknown[], options?: { prepare?: boolean; simple?: boolean }) {
      if (reserved) return reserved.unsafe(text, parameters as never, options);
      if (BEGINS_TRANSACTION.test(text)) {
        // Kysely awaits this: a promise-like that reserves first, then begins on the reserved connection.
        return pool.reserve().then((connection) => {
          reserved = connection;
          count(1);
          return connection.unsafe(text, parameters as never, options);
        });
      }
      const query = pool.unsafe(text, parameters as never, options);
      // A streamed query (no options) must not be started here: its cursor() starts it. Kysely
      // awaits every other query at once, so observing it here changes nothing.
      if (options) {
        count(1);
        const done = () => count(-1);
        query.then(done, done);
      }
      return query;
    },
    release() {
      if (!reserved) return;
      count(-1);
      reserved.release();
      reserved = undefined;
    },
  };
}

async function ping(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrate(db: Db, schema?: string): Promise<string[]> {
  if (db.dialect === 'postgres' && schema) {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db.kysely);
  }
  // Kysely looks for its migration tables in every schema unless told which: with
  // several schemas in one database (tests, tenants) it would find another's.
  const migrator = new Migrator({
    db: db.kysely,
    provider,
    ...(db.dialect === 'postgres' && schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export function nowIso(date = new Date()): string {
  return date.toISOString();
}
