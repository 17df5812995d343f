/**
 * Real databases for tests: a temporary SQLite file, and a throwaway PostgreSQL database on 127.0.0.1:5432 created
 * for the test and dropped after it (MEMER_TEST_PG_ADMIN overrides the admin URL).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Provider } from '../../src/data/provider.js';

export const PG_ADMIN = process.env.MEMER_TEST_PG_ADMIN ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const PROVIDERS: Provider[] = ['sqlite', 'postgresql'];

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function tempDatabase(provider: Provider): Promise<TempDatabase> {
  if (provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'memer-test-'));
    return { url: `file:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `memer_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
