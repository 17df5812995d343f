/**
 * Real databases for tests: a temporary SQLite file, and a throwaway PostgreSQL database on 127.0.0.1:5432 created
 * for the test and dropped after it (MEMER_TEST_PG_ADMIN overrides the admin URL).
 */
import type { Provider } from '../../src/data/provider.js';
import { scratchDatabase } from '../../src/data/scratch-database.js';

export const PG_ADMIN = process.env.MEMER_TEST_PG_ADMIN ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const PROVIDERS: Provider[] = ['sqlite', 'postgresql'];

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

export function tempDatabase(provider: Provider): Promise<TempDatabase> {
  return scratchDatabase(provider, PG_ADMIN);
}
