/**
 * A second connection to the SQLite file for the upload hot path: Prisma spends ~0.3 ms of CPU per statement (its
 * request pipeline, and base64 for every byte parameter), better-sqlite3's cached prepared statements ~10 us. An
 * upload group writes ~10 rows per post, so this is most of registerPost's database cost (`memer bench serve`).
 *
 * Transactions here are fully synchronous (BEGIN IMMEDIATE .. COMMIT with no await in between). That matters: if
 * this connection held the write lock across an await, a Prisma write on the other connection would wait for it
 * synchronously (busy_timeout) on the event loop, which this transaction needs to finish - a deadlock. The reverse
 * cannot happen: this connection never waits inside SQLite (busy_timeout 0); when the lock is taken (a Prisma
 * transaction in flight, or another process) it yields to the event loop and tries again.
 */
import type { Worker } from 'node:worker_threads';
import Database, { type Statement } from 'better-sqlite3';
import { spawnWorker } from '../lib/workers.js';
import { AppError, ErrorCode } from '../errors.js';

/** How SQLite DateTime columns are stored (the format of Prisma's better-sqlite3 adapter). */
export const sqliteDate = (d: Date) => d.toISOString().replace('Z', '+00:00');

export class DirectSqlite {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private checkpointer: Worker | null = null;

  constructor(
    private readonly path: string,
    private readonly onQuery?: (sql: string) => void,
  ) {
    this.db = new Database(path);
    this.db.pragma('busy_timeout = 0');
    this.db.pragma('synchronous = NORMAL');
  }

  /** A prepared statement, cached by its text. Runs are reported to the onQuery hook like Prisma's. */
  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    this.onQuery?.(sql);
    return this.statement(sql).run(...params);
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    this.onQuery?.(sql);
    return this.statement(sql).all(...params) as T[];
  }

  /**
   * SQLite's data_version: it changes when another connection (another process, or this process's Prisma connection)
   * commits, never for this connection's own commits or a PASSIVE checkpoint. One pragma, no table read.
   */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /**
   * Runs `fn` (synchronous) in a BEGIN IMMEDIATE transaction; an exception rolls it back. While another connection
   * holds the write lock, waits off the event loop (1 ms, doubling to 20 ms) for up to `maxWaitMs`.
   */
  async transaction<T>(fn: () => T, maxWaitMs = 30_000): Promise<T> {
    const tx = this.db.transaction(fn);
    const deadline = Date.now() + maxWaitMs;
    for (let wait = 1; ; wait = Math.min(20, wait * 2)) {
      try {
        return tx.immediate();
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        if (Date.now() > deadline) throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, `the database stayed locked for ${maxWaitMs / 1000} s by another writer; try again`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * Moves WAL checkpoints off the event loop (for serving processes): SQLite's automatic checkpoint runs inside the
   * commit that crosses 1000 WAL pages and, with its fsyncs, stalled registerPost for 10-36 ms every few hundred
   * uploads (measured). The caller turns automatic checkpoints off on its other connections too.
   */
  startCheckpointer(intervalMs = 500): void {
    if (this.checkpointer) return;
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpointer = spawnWorker(new URL('./checkpointer.worker.ts', import.meta.url), { path: this.path, intervalMs });
    this.checkpointer.unref();
  }

  close(): void {
    this.checkpointer?.postMessage('stop');
    this.checkpointer = null;
    this.db.close();
  }
}
