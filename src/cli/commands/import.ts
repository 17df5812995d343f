import { ttyProgress } from '../../datasets/progress.js';
import { importDataset } from '../../domain/imports/import.service.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { withServices } from '../context.js';

export const command: Command = defineCommand({
  help: [
    'Usage: memer import DIR [--json]',
    '',
    'Reads and checks the whole folder first: a malformed row stops the import with its file and line (exit 3) and',
    'nothing is written. Then one transaction writes posts (with tags, text and features), users, interactions and',
    'the per post and signal statistics. Importing the same folder again does nothing (matched by content digest).',
    'Signals the database does not know are created. Posts already registered with the same payload are kept; a',
    'different payload under the same id is a conflict (exit 5). Feature widths are the dataset\'s own unless something',
    'already fixes them: MEMER_FEATURES_VIDEO / MEMER_FEATURES_IMAGE when set, else the active models\' widths, else',
    'those of the posts stored (a mismatch stops the import, exit 3). Format: docs/datasets.md.',
    '',
    'Options:',
    '  --json   print a JSON summary on stdout',
  ].join('\n'),
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const dir = positionals[0];
    if (!dir) throw new CliError('name the dataset folder to import', ExitCode.USAGE);
    const progress = ttyProgress(`import ${dir}`);
    try {
      const summary = await withServices((s) => importDataset(s.db, s.config, dir, (stage, done, total) => progress.update(stage, done, total)));
      progress.end();
      if (values.json) console.log(JSON.stringify(summary));
      else if (summary.alreadyImported) console.log(`${dir} was already imported (digest ${summary.digest.slice(0, 12)}): nothing to do`);
      else {
        console.log(
          `imported ${summary.dataset}: ${summary.posts.created} new posts (${summary.posts.existing} already there), ${summary.users} users, ` +
            `${summary.interactions} interactions in ${summary.seconds.toFixed(1)} s` +
            (summary.signalsCreated.length ? `; new signals: ${summary.signalsCreated.join(', ')}` : ''),
        );
      }
      return ExitCode.OK;
    } catch (err) {
      progress.end();
      throw err;
    }
  },
});
