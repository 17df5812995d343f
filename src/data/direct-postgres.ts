/**
 * A small pool of plain `pg` connections for the upload hot path on PostgreSQL, beside Prisma's. Prisma spends ~0.3 ms
 * of CPU per statement (its request pipeline and parameter encoding) and an upload group made ~9 of them: a quarter of
 * the event loop's time under upload load (CPU profile of `memer bench serve --set database=postgresql`). Here a group
 * is five round trips of plain SQL, the rows of each table as arrays (unnest), whatever the group's size. The reads of
 * a recommendation request use it too (Prisma cost ~1.2 ms of a ~2 ms request at 100k posts).
 */
import pg from 'pg';

/** Parameterised SQL, rows back: one connection inside a transaction, or the pool (DirectPostgres itself). */
export interface PgQuery {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** One connection inside a transaction. */
export type PgTx = PgQuery;

export class DirectPostgres implements PgQuery {
  private readonly pool: pg.Pool;

  constructor(
    url: string,
    private readonly onQuery?: (sql: string) => void,
    /** Connections: one per upload group in flight (uploads.service.ts, PG_LANES), and some for reads. */
    max = 6,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max });
    // An idle connection that drops (a database restart) is an 'error' event on the pool, which would end the process
    // unheard; the pool has already discarded that connection and opens a new one on the next checkout.
    this.pool.on('error', () => {});
  }

  /** One statement on any pooled connection, outside a transaction (the per-request reads of recommendations). */
  query<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.run<T>(this.pool, sql, params);
  }

  /** Runs `fn` in a transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  async transaction<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: PgTx = { query: <R>(sql: string, params?: unknown[]) => this.run<R>(client, sql, params) };
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      // A connection that cannot even roll back is dropped from the pool, not reused.
      const broken = await client.query('ROLLBACK').then(() => false, () => true);
      client.release(broken);
      throw err;
    }
  }

  /** A statement on the pool or on one connection, reported to the onQuery hook like Prisma's. */
  private async run<T>(on: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<T[]> {
    this.onQuery?.(sql);
    return (await on.query(sql, params)).rows as T[];
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
