/**
 * The service's lifecycle: migrate, open the database, build services and Apollo, listen; stop closes in reverse.
 * Used by `memer serve` and by the HTTP tests.
 */
import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { Config } from '../config/config.js';
import { openDatabase } from '../data/db.js';
import { migrate, type MigrateResult } from '../data/migrate.js';
import { Services } from '../domain/services.js';
import type { Context } from '../graphql/context.js';
import type { Logger } from '../lib/logger.js';
import { createApollo } from './apollo.js';
import { listen } from './http.js';

export interface RunningApp {
  url: string;
  services: Services;
  apollo: ApolloServer<Context>;
  migrations: MigrateResult;
  stop(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const migrations = await migrate(config.databaseUrl);
  if (migrations.applied.length) logger.info('applied migrations', { provider: migrations.provider, applied: migrations.applied });
  const db = await openDatabase(config.databaseUrl);
  await db.backgroundCheckpoints();
  const services = new Services(db, config, logger);
  await services.registry.sync();
  await services.widths.refresh();
  await services.index.warm();
  // Other processes (memer train, other replicas) write models and embeddings: pick them up periodically.
  const timer = setInterval(() => {
    services.refresh().catch((err: unknown) => logger.error('refresh failed', { error: (err as Error).message }));
  }, config.refreshMs);
  timer.unref();
  const apollo = await createApollo(services, logger);
  let server: Server;
  let url: string;
  try {
    ({ server, url } = await listen(apollo, services, logger, config.host, config.port));
  } catch (err) {
    clearInterval(timer);
    await apollo.stop();
    await services.close();
    throw err;
  }
  return {
    url,
    services,
    apollo,
    migrations,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      clearInterval(timer);
      await apollo.stop();
      await services.close();
    },
  };
}
