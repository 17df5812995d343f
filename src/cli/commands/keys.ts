import { parseScope } from '../../domain/keys/keys.service.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { withServices } from '../context.js';

export const command: Command = defineCommand({
  help: [
    'Usage: memer keys create --scope read|write|admin [--scope ...] [--name NAME] [--json]',
    '       memer keys list [--json]',
    '       memer keys revoke PREFIX [--json]',
    '',
    'Mutations need a key sent as "Authorization: Bearer <key>": write for uploads and interactions, admin for model',
    'operations (admin includes write, write includes read). Only a hash is stored: the key is printed once, at',
    'creation. PREFIX is the part between "mk_" and the second "_".',
  ].join('\n'),
  options: { scope: { type: 'string', multiple: true }, name: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [action, arg] = positionals;
    const json = Boolean(values.json);
    switch (action) {
      case 'create': {
        const scopes = ((values.scope as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map(parseScopeOrExit);
        if (scopes.length === 0) throw new CliError('name at least one --scope (read, write or admin)', ExitCode.USAGE);
        const { key, info } = await withServices((s) => s.keys.create(scopes, (values.name as string | undefined) ?? ''));
        console.log(json ? JSON.stringify({ key, prefix: info.prefix, scopes: info.scopes, name: info.name }) : `${key}\n(scopes: ${info.scopes.join(', ')}; store it now, it is not shown again)`);
        return ExitCode.OK;
      }
      case 'list': {
        const keys = await withServices((s) => s.keys.list());
        if (json) console.log(JSON.stringify(keys));
        else for (const k of keys) console.log(`${k.prefix}  ${k.scopes.join(',').padEnd(16)} ${k.revokedAt ? 'revoked' : 'active '}  ${k.name}`);
        return ExitCode.OK;
      }
      case 'revoke': {
        if (!arg) throw new CliError('name the key prefix to revoke', ExitCode.USAGE);
        const info = await withServices((s) => s.keys.revoke(arg));
        console.log(json ? JSON.stringify(info) : `revoked ${info.prefix}`);
        return ExitCode.OK;
      }
      default:
        throw new CliError(`expected create, list or revoke\n\n${command.help}`, ExitCode.USAGE);
    }
  },
});

function parseScopeOrExit(s: string) {
  try {
    return parseScope(s.trim());
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.USAGE);
  }
}
