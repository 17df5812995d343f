import { parseArgs } from 'node:util';
import { CliError, ExitCode, type Command } from './command.js';

/** Every command, loaded on demand so `memer --help` stays fast. Keep alphabetical. */
const commands: Record<string, () => Promise<{ command: Command }>> = {
  bench: () => import('./commands/bench.js'),
  dataset: () => import('./commands/dataset.js'),
  db: () => import('./commands/db.js'),
  evaluate: () => import('./commands/evaluate.js'),
  import: () => import('./commands/import.js'),
  keys: () => import('./commands/keys.js'),
  serve: () => import('./commands/serve.js'),
  simulate: () => import('./commands/simulate.js'),
  train: () => import('./commands/train.js'),
};

function usage(): string {
  return [
    'memer: content-intelligence API (MEMER embeddings for new posts, FFM backbone, evaluation, serving)',
    '',
    'Usage: memer <command> [options]      memer <command> --help for details',
    '',
    'Commands:',
    ...Object.keys(commands).map((name) => `  ${name}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  const load = commands[name];
  if (!load) {
    console.error(`memer: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.USAGE;
  }
  const { command } = await load();
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(command.help);
      return ExitCode.OK;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new CliError(`${(err as Error).message}\n\n${command.help}`, ExitCode.USAGE);
    }
    return await command.run(parsed as Parameters<Command['run']>[0]);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`memer ${name}: ${err.message}`);
      return err.code;
    }
    throw err;
  }
}
