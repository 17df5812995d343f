/**
 * Applies the committed SQL migrations (prisma/migrations/<provider>/<NNNN_name>/migration.sql) in order, each in its
 * own transaction, recording name and sha256 in `_memer_migrations`. Prisma's migrate command needs a native engine
 * downloaded from a CDN; this runner needs nothing but the database driver. On PostgreSQL an advisory lock makes
 * concurrent replicas starting at once apply each migration exactly once. A changed, already-applied migration is an
 * error, never silently re-run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { providerOf, sqlitePath, type Provider } from './provider.js';

export const migrationsRoot = new URL('../../prisma/migrations/', import.meta.url);

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(provider: Provider): Migration[] {
  const dir = new URL(`${provider}/`, migrationsRoot);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(new URL(`${name}/migration.sql`, dir), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export interface MigrateResult {
  provider: Provider;
  applied: string[];
  alreadyApplied: number;
}

const LEDGER = `CREATE TABLE IF NOT EXISTS "_memer_migrations" (
  "name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`;

function pending(migrations: Migration[], done: Map<string, string>): Migration[] {
  for (const [name, checksum] of done) {
    const m = migrations.find((x) => x.name === name);
    if (!m) throw new Error(`database has migration ${name}, which is not in prisma/migrations: is this build older than the database?`);
    if (m.checksum !== checksum) throw new Error(`migration ${name} was changed after it was applied (checksum differs)`);
  }
  return migrations.filter((m) => !done.has(m.name));
}

export async function migrate(url: string): Promise<MigrateResult> {
  const provider = providerOf(url);
  const migrations = loadMigrations(provider);
  return provider === 'sqlite' ? migrateSqlite(url, migrations) : migratePostgres(url, migrations);
}

function migrateSqlite(url: string, migrations: Migration[]): MigrateResult {
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    db.exec(LEDGER);
    const rows = db.prepare('SELECT name, checksum FROM _memer_migrations').all() as { name: string; checksum: string }[];
    const todo = pending(migrations, new Map(rows.map((r) => [r.name, r.checksum])));
    const record = db.prepare('INSERT INTO _memer_migrations (name, checksum, appliedAt) VALUES (?, ?, ?)');
    for (const m of todo) {
      db.transaction(() => {
        db.exec(m.sql);
        record.run(m.name, m.checksum, new Date().toISOString());
      }).immediate();
    }
    return { provider: 'sqlite', applied: todo.map((m) => m.name), alreadyApplied: rows.length };
  } finally {
    db.close();
  }
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7345612)');
    await client.query(LEDGER);
    const { rows } = await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM _memer_migrations');
    const todo = pending(migrations, new Map(rows.map((r) => [r.name, r.checksum])));
    for (const m of todo) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO _memer_migrations (name, checksum, "appliedAt") VALUES ($1, $2, $3)', [m.name, m.checksum, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
    }
    return { provider: 'postgresql', applied: todo.map((m) => m.name), alreadyApplied: rows.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock(7345612)').catch(() => undefined);
    await client.end();
  }
}
