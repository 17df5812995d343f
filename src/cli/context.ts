/** Shared set-up for commands that work on the database: config, migrations, services. */
import { loadConfig, type Config } from '../config/config.js';
import { openDatabase } from '../data/db.js';
import { migrate } from '../data/migrate.js';
import { Services } from '../domain/services.js';

/** The configuration from the environment; a bad setting is a ConfigError (exit 2, src/cli/errors.ts). */
export function cliConfig(overrides: Partial<Config> = {}): Config {
  return loadConfig(process.env, overrides);
}

/** Runs `work` with services over the configured database (migrated first), closing it afterwards. */
export async function withServices<T>(work: (services: Services) => Promise<T>, config = cliConfig()): Promise<T> {
  await migrate(config.databaseUrl);
  const services = new Services(await openDatabase(config.databaseUrl), config);
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}
