import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { migrate } from '../../data/migrate.js';
import { migrationsRoot } from '../../data/migrate.js';
import { pendingSchemaSql, postgresSchemaFrom, schemaPaths } from '../../data/schema-engine.js';
import { scratchDatabase } from '../../data/scratch-database.js';
import type { Provider } from '../../data/provider.js';
import { emitSchema } from '../../graphql/schema.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { cliConfig } from '../context.js';

export const command: Command = defineCommand({
  help: [
    'Usage: memer db migrate [--json]',
    '       memer db generate --name NAME [--postgres URL]',
    '',
    'migrate   applies the committed migrations to DATABASE_URL (memer serve does this on start too).',
    'generate  for developers, after editing prisma/schema.prisma or the GraphQL types: rewrites',
    '          prisma/postgresql/schema.prisma, writes a new migration per provider where the schema moved on from',
    '          the committed migrations (computed on scratch databases; PostgreSQL at --postgres, default',
    '          postgresql://postgres@127.0.0.1:5432/postgres), and re-emits schema.graphql. Then run `npm run prepare`.',
  ].join('\n'),
  options: { json: { type: 'boolean' }, name: { type: 'string' }, postgres: { type: 'string' } },
  async run({ values, positionals }) {
    switch (positionals[0]) {
      case 'migrate': {
        const result = await migrate(cliConfig().databaseUrl);
        console.log(values.json ? JSON.stringify(result) : `${result.provider}: applied ${result.applied.length} migration(s)${result.applied.length ? `: ${result.applied.join(', ')}` : ''}`);
        return ExitCode.OK;
      }
      case 'generate': {
        const name = values.name as string | undefined;
        if (!name || !/^[a-z0-9_]+$/.test(name)) throw new CliError('--name is required: lowercase letters, digits and _', ExitCode.USAGE);
        writeFileSync(schemaPaths.postgresql, postgresSchemaFrom(readFileSync(schemaPaths.sqlite, 'utf8')));
        const admin = (values.postgres as string | undefined) ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
        for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
          const scratch = await scratchDatabase(provider, admin);
          try {
            const sql = await pendingSchemaSql(provider, scratch.url);
            if (!sql.trim()) console.log(`${provider}: migrations already match the schema`);
            else console.log(`${provider}: wrote ${writeMigration(provider, name, sql)}`);
          } finally {
            await scratch.drop();
          }
        }
        console.log((await emitSchema()) ? 'schema.graphql updated' : 'schema.graphql unchanged');
        return ExitCode.OK;
      }
      default:
        throw new CliError(`expected migrate or generate\n\n${command.help}`, ExitCode.USAGE);
    }
  },
});

function writeMigration(provider: Provider, name: string, sql: string): string {
  const dir = new URL(`${provider}/`, migrationsRoot);
  const next = readdirSync(dir).filter((d) => /^\d{4}_/.test(d)).length + 1;
  const folder = `${String(next).padStart(4, '0')}_${name}`;
  mkdirSync(new URL(`${folder}/`, dir), { recursive: true });
  writeFileSync(new URL(`${folder}/migration.sql`, dir), sql);
  return `prisma/migrations/${provider}/${folder}/migration.sql`;
}
