import { parseArgs } from 'node:util';
import { CliError, ExitCode, type Command } from './command.js';
import { asCliError } from './errors.js';

/** Every command with its one-line summary; modules load on demand so `memer --help` stays fast. Keep alphabetical. */
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  bench: { summary: 'run a benchmark and print its figures (JSON with --json)', load: () => import('./commands/bench.js') },
  dataset: { summary: 'import MovieLens, TikTok or an interaction table into a dataset folder; show counts of a dataset folder', load: () => import('./commands/dataset.js') },
  db: { summary: 'apply migrations; regenerate the PostgreSQL schema, migrations and schema.graphql after a model change', load: () => import('./commands/db.js') },
  evaluate: { summary: 'offline evaluation as in the paper (Table 2): Random, Global Avg, Tag Avg, Mature and MEMER per signal, no database', load: () => import('./commands/evaluate.js') },
  experiment: { summary: 'online experiments (A/B arms for early-stage rankings): create, start, stop, list, report', load: () => import('./commands/experiment.js') },
  extract: { summary: 'run content extractors (ONNX files) over raw inputs and write a dataset\'s features/<modality>.npy', load: () => import('./commands/extract.js') },
  import: { summary: 'load a dataset folder (items.csv, interactions.csv, users.csv, features/*.npy) into the database', load: () => import('./commands/import.js') },
  ingest: { summary: 'consume interaction events from NATS JetStream or Redis Streams into the database (at least once, idempotent by event id)', load: () => import('./commands/ingest.js') },
  keys: { summary: 'create, list and revoke API keys', load: () => import('./commands/keys.js') },
  serve: { summary: 'run the GraphQL service (migrates an empty database first)', load: () => import('./commands/serve.js') },
  simulate: { summary: 'generate a synthetic platform (posts, users, six signals, all modalities) as a dataset folder', load: () => import('./commands/simulate.js') },
  train: { summary: 'train FFM backbones, maturity thresholds and MEMER models on the database; register (and activate) them', load: () => import('./commands/train.js') },
};

function usage(): string {
  return [
    'memer: content-intelligence API (MEMER embeddings for new posts, FFM backbone, evaluation, serving)',
    '',
    'Usage: memer <command> [options]      memer <command> --help for details',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`memer: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.USAGE;
  }
  const { command } = await entry.load();
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
  } catch (thrown) {
    const err = asCliError(thrown);
    if (err instanceof CliError) {
      console.error(`memer ${name}: ${err.message}`);
      return err.code;
    }
    throw err;
  }
}
