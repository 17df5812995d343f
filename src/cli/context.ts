/** Shared set-up for commands that work on the database: config, migrations, services. */
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { openDatabase } from '../data/db.js';
import { migrate } from '../data/migrate.js';
import { Services } from '../domain/services.js';
import { AppError, ErrorCode } from '../errors.js';
import { CliError, ExitCode } from './command.js';

export function cliConfig(overrides: Partial<Config> = {}): Config {
  try {
    return loadConfig(process.env, overrides);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, ExitCode.USAGE);
    throw err;
  }
}

/** Runs `work` with services over the configured database (migrated first), closing it afterwards. */
export async function withServices<T>(work: (services: Services) => Promise<T>, config = cliConfig()): Promise<T> {
  await migrate(config.databaseUrl);
  const services = new Services(await openDatabase(config.databaseUrl), config);
  try {
    return await work(services);
  } catch (err) {
    if (err instanceof AppError) throw new CliError(err.message, exitCodeOf(err.code));
    throw err;
  } finally {
    await services.close();
  }
}

export function exitCodeOf(code: ErrorCode): ExitCode {
  switch (code) {
    case ErrorCode.BAD_USER_INPUT:
      return ExitCode.BAD_INPUT;
    case ErrorCode.NOT_FOUND:
      return ExitCode.NOT_FOUND;
    case ErrorCode.CONFLICT:
      return ExitCode.CONFLICT;
    default:
      return ExitCode.FAILURE;
  }
}
