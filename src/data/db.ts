/**
 * Opens the database named by a DATABASE_URL with the matching generated Prisma client and driver adapter.
 * Both clients come from one schema (prisma/schema.prisma), so the rest of the code types against the SQLite one.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/sqlite/client.js';
import { PrismaClient as PgPrismaClient } from '../generated/postgresql/client.js';
import { DirectPostgres } from './direct-postgres.js';
import { DirectSqlite } from './direct-sqlite.js';
import { providerOf, sqlitePath, type Provider } from './provider.js';

export type Prisma = PrismaClient;
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

export interface Db {
  prisma: Prisma;
  provider: Provider;
  /** SQLite files only: a second connection for the upload hot path (see direct-sqlite.ts). */
  direct?: DirectSqlite;
  /** PostgreSQL only: a pool of plain connections for the upload hot path (see direct-postgres.ts). */
  pg?: DirectPostgres;
  /** SQLite files: checkpoint the WAL on a worker thread instead of inside commits (serving processes call this). */
  backgroundCheckpoints(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Called with each SQL statement Prisma sends (tests count queries with it). */
  onQuery?: (sql: string) => void;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Db> {
  const provider = providerOf(url);
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let prisma: Prisma;
  if (provider === 'sqlite') {
    const path = sqlitePath(url);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: path }), log });
  } else {
    prisma = new PgPrismaClient({ adapter: new PrismaPg({ connectionString: url }), log }) as unknown as Prisma;
  }
  if (options.onQuery) {
    const onQuery = options.onQuery;
    (prisma as unknown as { $on(e: 'query', cb: (ev: { query: string }) => void): void }).$on('query', (e) => onQuery(e.query));
  }
  if (provider === 'sqlite') {
    // WAL lets readers run beside the single writer; busy_timeout makes a second writer wait instead of failing.
    await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await prisma.$queryRawUnsafe('PRAGMA busy_timeout = 5000');
    await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
  }
  const direct = provider === 'sqlite' && sqlitePath(url) !== ':memory:' ? new DirectSqlite(sqlitePath(url), options.onQuery) : undefined;
  const pgDirect = provider === 'postgresql' ? new DirectPostgres(url, options.onQuery) : undefined;
  return {
    prisma,
    provider,
    direct,
    pg: pgDirect,
    backgroundCheckpoints: async () => {
      if (!direct) return;
      await prisma.$queryRawUnsafe('PRAGMA wal_autocheckpoint = 0');
      direct.startCheckpointer();
    },
    close: async () => {
      direct?.close();
      await pgDirect?.close();
      await prisma.$disconnect();
    },
  };
}
