/** A migrated database, services and a started Apollo server, driven through executeOperation. */
import assert from 'node:assert/strict';
import type { ApolloServer } from '@apollo/server';
import { loadConfig, type Config } from '../../src/config/config.js';
import { openDatabase } from '../../src/data/db.js';
import { migrate } from '../../src/data/migrate.js';
import type { Provider } from '../../src/data/provider.js';
import { Services } from '../../src/domain/services.js';
import { createContext, type Context } from '../../src/graphql/context.js';
import { createLogger } from '../../src/lib/logger.js';
import { createApollo } from '../../src/server/apollo.js';
import { tempDatabase } from './databases.js';

export interface Harness {
  services: Services;
  apollo: ApolloServer<Context>;
  /** SQL statements sent since the last reset. */
  queries: string[];
  keys: { admin: string; write: string; read: string };
  exec(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<{ data?: any; errors?: any[] }>;
  /** Runs and asserts there were no errors; returns data. */
  ok(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<any>;
  /** Runs and asserts the first error has this code; returns the error. */
  fails(code: string, query: string, variables?: Record<string, unknown>, key?: string | null): Promise<any>;
  close(): Promise<void>;
}

/** Small feature dimensions keep test payloads readable; the paper's defaults are tested in config tests. */
export const TEST_FEATURES: Config['features'] = { video: { visual: 8, audio: 4, text: 3, aux: 2 }, image: { visual: 6, text: 3, aux: 2 } };

export async function harness(provider: Provider, overrides: Partial<Config> = {}): Promise<Harness> {
  const temp = await tempDatabase(provider);
  // refreshMs 1: the tests write to the database behind the services' back and expect the next request to see it.
  const config = loadConfig({}, { databaseUrl: temp.url, features: TEST_FEATURES, refreshMs: 1, ...overrides });
  await migrate(config.databaseUrl);
  const queries: string[] = [];
  const db = await openDatabase(config.databaseUrl, { onQuery: (sql) => queries.push(sql) });
  const logger = createLogger('error', () => undefined);
  const services = new Services(db, config, logger);
  const apollo = await createApollo(services, logger);
  const keys = {
    admin: (await services.keys.create(['admin'], 'test admin')).key,
    write: (await services.keys.create(['write'], 'test write')).key,
    read: (await services.keys.create(['read'], 'test read')).key,
  };
  const exec: Harness['exec'] = async (query, variables, key = keys.admin) => {
    const contextValue = await createContext(services, key ? `Bearer ${key}` : undefined);
    const res = await apollo.executeOperation({ query, variables }, { contextValue });
    assert.equal(res.body.kind, 'single');
    // Serialise as the HTTP transport would (dates to strings, plain objects).
    return res.body.kind === 'single' ? (JSON.parse(JSON.stringify(res.body.singleResult)) as { data?: any; errors?: any[] }) : {};
  };
  return {
    services,
    apollo,
    queries,
    keys,
    exec,
    async ok(query, variables, key) {
      const r = await exec(query, variables, key);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data;
    },
    async fails(code, query, variables, key) {
      const r = await exec(query, variables, key);
      assert.ok(r.errors?.length, `expected ${code}, got data ${JSON.stringify(r.data)}`);
      assert.equal(r.errors![0].extensions?.code, code, JSON.stringify(r.errors));
      return r.errors![0];
    },
    async close() {
      await apollo.stop();
      await services.close();
      await temp.drop();
    },
  };
}

export const features = (dim: number, seed = 1) => Array.from({ length: dim }, (_, i) => Math.round(Math.sin(seed * 7.1 + i) * 1000) / 1000);
