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
import type { EmbeddingStore } from './embeddings.js';
import type { InteractionStore } from './interactions.js';
import { PostgresEmbeddingStore } from './postgres/embeddings.js';
import { PostgresInteractionStore } from './postgres/interactions.js';
import { PostgresRecommendationReads } from './postgres/recommend-reads.js';
import { PrismaEmbeddingStore } from './prisma/embeddings.js';
import { PrismaInteractionStore } from './prisma/interactions.js';
import { PrismaRecommendationReads } from './prisma/recommend-reads.js';
import type { RecommendationReads } from './recommend-reads.js';
import { SqliteEmbeddingStore } from './sqlite/embeddings.js';
import { SqliteInteractionStore } from './sqlite/interactions.js';
import { SqliteRecommendationReads } from './sqlite/recommend-reads.js';
import { providerOf, sqlitePath, type Provider } from './provider.js';

export type Prisma = PrismaClient;
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

/**
 * The repositories, one per aggregate, each an interface (src/data/<aggregate>.ts) with one implementation per
 * database (src/data/sqlite/, postgres/, prisma/), chosen once here when the database opens (docs/architecture.md).
 */
export interface Stores {
  interactions: InteractionStore;
  embeddings: EmbeddingStore;
  recommendations: RecommendationReads;
}

export interface Db {
  prisma: Prisma;
  provider: Provider;
  /** The repositories (see Stores): what the domain reads and writes through, without a provider branch of its own. */
  stores: Stores;
  /** SQLite files only: a second connection for the upload hot path (see direct-sqlite.ts). */
  direct?: DirectSqlite;
  /** PostgreSQL only: a pool of plain connections for the upload hot path (see direct-postgres.ts). */
  pg?: DirectPostgres;
  /** PostgreSQL: the connection pools (Prisma's, the direct one's); empty for SQLite. Cheap: reads counters. */
  poolStats?(): { pool: 'prisma' | 'direct'; stats: PoolStats }[];
  /** SQLite files: checkpoint the WAL on a worker thread instead of inside commits (serving processes call this). */
  backgroundCheckpoints(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Called with each SQL statement Prisma sends (tests count queries with it). */
  onQuery?: (sql: string) => void;
  /**
   * Timing hook (the server's database histograms): called after each Prisma operation and each statement or
   * transaction of the direct paths, with its wall time in seconds. A performance.now() pair per call; nothing per row.
   */
  onTiming?: (seconds: number, query: QueryTiming) => void;
}

/** What a timed database call was, in a small bounded vocabulary (no SQL text, no values). */
export interface QueryTiming {
  /** prisma: through the Prisma client; direct: the hand-written SQL of direct-sqlite.ts / direct-postgres.ts. */
  client: 'prisma' | 'direct';
  /**
   * Prisma: `Model.operation` (e.g. `Post.findMany`) or the raw operation (`$queryRawUnsafe`); direct: the statement's
   * verb and first table (`insert PostEmbedding`, `select Post`), or `transaction` for a whole direct transaction.
   */
  operation: string;
  ok: boolean;
}

/** Connections of a pg.Pool (PostgreSQL): open, idle, and callers waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

const poolStats = (p: PgPoolLike): PoolStats => ({ total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount });

/** Most distinct direct statements labelled by their text; later ones are "other" (the direct SQL is fixed text). */
const MAX_STATEMENT_LABELS = 500;

/** A bounded label for a direct SQL statement: its verb and first table, cached by text. */
function statementLabeller(): (sql: string) => string {
  const labels = new Map<string, string>();
  return (sql) => {
    let label = labels.get(sql);
    if (label !== undefined) return label;
    if (labels.size >= MAX_STATEMENT_LABELS) return 'other';
    const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? 'other';
    // The first table named outside parentheses (else the first one at all): not `FROM p."col"` nor `FROM unnest(`;
    // for a WITH statement, the first one it writes (its CTEs are where the work is).
    let table = verb === 'with' ? /\b(?:into|update)\s+"?([A-Za-z_]\w*)"?(?![\w.(])/i.exec(sql)?.[1] : undefined;
    if (!table) for (const m of sql.matchAll(/\b(?:from|into|update|join)\s+"?([A-Za-z_]\w*)"?(?![\w.(])/gi)) {
      const before = sql.slice(0, m.index);
      const depth = before.split('(').length - before.split(')').length;
      table ??= m[1];
      if (depth === 0) {
        table = m[1];
        break;
      }
    }
    label = /^(select|insert|update|delete|with|pragma|begin|commit|rollback)$/.test(verb) ? (table && verb !== 'pragma' ? `${verb} ${table}` : verb) : 'other';
    labels.set(sql, label);
    return label;
  };
}

/** Wraps the hot methods of the direct paths (in place) so that each call reports its time. */
function timeDirect(direct: DirectSqlite | undefined, pgDirect: DirectPostgres | undefined, onTiming: NonNullable<OpenOptions['onTiming']>): void {
  const label = statementLabeller();
  const report = (t0: number, operation: string, ok: boolean) => onTiming((performance.now() - t0) / 1000, { client: 'direct', operation, ok });
  if (direct) {
    const { run, all, transaction } = direct;
    direct.run = function (sql, ...params) {
      const t0 = performance.now();
      let ok = false;
      try {
        const r = run.call(this, sql, ...params);
        ok = true;
        return r;
      } finally {
        report(t0, label(sql), ok);
      }
    };
    direct.all = function <T>(sql: string, ...params: unknown[]): T[] {
      const t0 = performance.now();
      let ok = false;
      try {
        const r = all.call(this, sql, ...params) as T[];
        ok = true;
        return r;
      } finally {
        report(t0, label(sql), ok);
      }
    };
    direct.transaction = async function <T>(fn: () => T, maxWaitMs?: number): Promise<T> {
      const t0 = performance.now();
      let ok = false;
      try {
        const r = await transaction.call(this, fn, maxWaitMs) as T;
        ok = true;
        return r;
      } finally {
        report(t0, 'transaction', ok);
      }
    };
  }
  if (pgDirect) {
    // query() on the pool and tx.query() inside a transaction both end in the private run(); wrap that one.
    const target = pgDirect as unknown as { run<T>(on: unknown, sql: string, params?: unknown[]): Promise<T[]> };
    const { run } = target;
    target.run = async function <T>(on: unknown, sql: string, params?: unknown[]): Promise<T[]> {
      const t0 = performance.now();
      let ok = false;
      try {
        const r = await run.call(this, on, sql, params) as T[];
        ok = true;
        return r;
      } finally {
        report(t0, label(sql), ok);
      }
    };
    const { transaction } = pgDirect;
    pgDirect.transaction = async function <T>(fn: Parameters<DirectPostgres['transaction']>[0]): Promise<T> {
      const t0 = performance.now();
      let ok = false;
      try {
        const r = await transaction.call(this, fn) as T;
        ok = true;
        return r;
      } finally {
        report(t0, 'transaction', ok);
      }
    };
  }
}

/** Every Prisma operation (model and raw) timed through a query extension. */
function timePrisma(prisma: Prisma, onTiming: NonNullable<OpenOptions['onTiming']>): Prisma {
  return prisma.$extends({
    name: 'memer-timing',
    query: {
      async $allOperations({ model, operation, args, query }) {
        const t0 = performance.now();
        let ok = false;
        try {
          const r = await query(args);
          ok = true;
          return r;
        } finally {
          onTiming((performance.now() - t0) / 1000, { client: 'prisma', operation: model ? `${model}.${operation}` : operation, ok });
        }
      },
    },
  }) as unknown as Prisma;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Db> {
  const provider = providerOf(url);
  const log = options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let prisma: Prisma;
  let prismaPool: PgPoolLike | undefined;
  if (provider === 'sqlite') {
    const path = sqlitePath(url);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: path }), log });
  } else {
    const adapter = new PrismaPg({ connectionString: url });
    // The adapter makes its pool when Prisma connects: keep a handle on it for poolStats.
    const connect = adapter.connect.bind(adapter);
    adapter.connect = async () => {
      const connected = await connect();
      prismaPool = connected.underlyingDriver();
      return connected;
    };
    prisma = new PgPrismaClient({ adapter, log }) as unknown as Prisma;
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
  if (options.onTiming) {
    timeDirect(direct, pgDirect, options.onTiming);
    prisma = timePrisma(prisma, options.onTiming);
  }
  // After the timing wrappers: the stores hold the timed clients.
  const stores: Stores = {
    interactions: direct ? new SqliteInteractionStore(direct) : pgDirect ? new PostgresInteractionStore(pgDirect) : new PrismaInteractionStore(prisma, provider),
    embeddings: direct ? new SqliteEmbeddingStore(prisma) : pgDirect ? new PostgresEmbeddingStore(prisma) : new PrismaEmbeddingStore(prisma, provider),
    recommendations: direct ? new SqliteRecommendationReads(direct) : pgDirect ? new PostgresRecommendationReads(prisma, pgDirect) : new PrismaRecommendationReads(prisma),
  };
  // DirectPostgres keeps its pg.Pool private; its counters are read here only (see poolStats).
  const directPool = (pgDirect as unknown as { pool?: PgPoolLike } | undefined)?.pool;
  return {
    prisma,
    provider,
    stores,
    direct,
    pg: pgDirect,
    poolStats: () => [
      ...(prismaPool ? [{ pool: 'prisma' as const, stats: poolStats(prismaPool) }] : []),
      ...(directPool ? [{ pool: 'direct' as const, stats: poolStats(directPool) }] : []),
    ],
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
