/**
 * Writes exposure rows (one per response, its posts packed) in one statement per chunk on whichever connection is
 * cheapest: SQLite's direct connection (multi-row INSERTs in one synchronous transaction; its own commits leave
 * data_version alone, so the server's refresh stays a no-op), PostgreSQL's direct pool (one statement, the columns as
 * arrays expanded with unnest), otherwise Prisma's createMany (an in-memory SQLite database). A row per response
 * rather than per post: a SQLite insert costs microseconds of event loop per row, so 50 rows per response would make
 * the exposure log a measurable part of a busy server's CPU.
 */
import type { Db } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { PgQuery } from '../../data/direct-postgres.js';
import { packPosts, packSources, type ExposureRow } from './experiment.types.js';

const COLUMNS = `"experimentId", "userExternalId", "arm", "origin", "servedAt", "position", "posts", "sources"`;
/** Rows per SQLite statement: 8 parameters each, well under SQLite's 32,766. */
const SQLITE_CHUNK = 100;
/** Rows per PostgreSQL statement. */
const PG_CHUNK = 2_000;

const INSERT_PG = `INSERT INTO "ExperimentExposure" (${COLUMNS})
  SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::"ImpressionOrigin"[], $5::timestamp(3)[], $6::int[], $7::bytea[], $8::bytea[])`;

const sqliteStatement = (rows: number) => `INSERT INTO "ExperimentExposure" (${COLUMNS}) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;

/** Inside the direct connection's (synchronous) transaction. */
function writeSqlite(direct: DirectSqlite, rows: readonly ExposureRow[]): void {
  for (let i = 0; i < rows.length; i += SQLITE_CHUNK) {
    const chunk = rows.slice(i, i + SQLITE_CHUNK);
    const params: unknown[] = [];
    for (const r of chunk) params.push(r.experimentKey, r.userId, r.arm, r.origin, sqliteDate(r.servedAt), r.position, packPosts(r.postKeys), packSources(r.sources));
    // Full chunks share one cached statement; a tail prepares its own (at most SQLITE_CHUNK distinct texts).
    direct.run(sqliteStatement(chunk.length), ...params);
  }
}

async function writePg(pg: PgQuery, rows: readonly ExposureRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += PG_CHUNK) {
    const chunk = rows.slice(i, i + PG_CHUNK);
    await pg.query(INSERT_PG, [
      chunk.map((r) => r.experimentKey),
      chunk.map((r) => r.userId),
      chunk.map((r) => r.arm),
      chunk.map((r) => r.origin),
      chunk.map((r) => r.servedAt.toISOString()),
      chunk.map((r) => r.position),
      chunk.map((r) => Buffer.from(packPosts(r.postKeys))),
      chunk.map((r) => Buffer.from(packSources(r.sources))),
    ]);
  }
}

/** Stores the rows (all or none). */
export async function writeExposures(db: Db, rows: readonly ExposureRow[]): Promise<void> {
  if (rows.length === 0) return;
  const direct = db.direct;
  if (direct) return direct.transaction(() => writeSqlite(direct, rows));
  if (db.pg) {
    const pg = db.pg;
    if (rows.length <= PG_CHUNK) return writePg(pg, rows);
    return pg.transaction((tx) => writePg(tx, rows));
  }
  await db.prisma.experimentExposure.createMany({
    data: rows.map((r) => ({
      experimentId: r.experimentKey,
      userExternalId: r.userId,
      arm: r.arm,
      origin: r.origin,
      servedAt: r.servedAt,
      position: r.position,
      posts: packPosts(r.postKeys) as Uint8Array<ArrayBuffer>,
      sources: packSources(r.sources) as Uint8Array<ArrayBuffer>,
    })),
  });
}
