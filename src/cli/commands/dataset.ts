import { existsSync } from 'node:fs';
import { CliError, ExitCode, type Command } from '../command.js';
import { DatasetError } from '../../datasets/errors.js';
import { datasetInfo, formatInfo } from '../../datasets/info.js';
import { importMovieLens, type MovieLensLayout } from '../../datasets/movielens/index.js';
import { ttyProgress } from '../../datasets/progress.js';
import { readDataset } from '../../datasets/read.js';

const LAYOUTS = ['auto', 'latest-small', '100k'] as const;

export const command: Command = {
  help: [
    'Usage: memer dataset movielens SRC --out DIR [--layout auto|latest-small|100k] [--json]',
    '       memer dataset info DIR [--json]',
    '',
    'movielens  converts a MovieLens folder to the dataset folder format (docs/datasets.md): signals rated, liked',
    '           (rating >= 4) and tagged; genres become tags, titles text, every movie a video created at its first',
    '           interaction. Layout auto-detected: ratings.csv + movies.csv (ml-latest-small, ml-latest, ml-25m) or',
    '           u.data + u.item (ml-100k). Files of the same name in DIR are overwritten.',
    'info       reads a dataset folder and prints counts per signal, media type and feature modality.',
    '',
    'Options:',
    '  --out DIR      output folder (movielens; created if needed)',
    '  --layout NAME  auto (default), latest-small or 100k',
    '  --json         print one JSON object on stdout (progress still goes to stderr on a TTY)',
    '',
    'Exit codes: 2 usage, 3 malformed input (message names file:line), 4 folder not found.',
  ].join('\n'),
  options: { out: { type: 'string' }, layout: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [sub, path, ...extra] = positionals;
    if (extra.length) throw new CliError(`unexpected argument(s): ${extra.join(' ')}`, ExitCode.USAGE);
    if (sub !== 'movielens' && sub !== 'info') throw new CliError(`expected movielens or info\n\n${command.help}`, ExitCode.USAGE);
    if (!path) throw new CliError(`${sub}: name the ${sub === 'info' ? 'dataset' : 'MovieLens'} folder`, ExitCode.USAGE);
    if (!existsSync(path)) throw new CliError(`${path}: no such folder`, ExitCode.NOT_FOUND);
    const progress = ttyProgress(`dataset ${sub}`);
    try {
      if (sub === 'movielens') {
        const out = values.out as string | undefined;
        if (!out) throw new CliError('movielens needs --out DIR', ExitCode.USAGE);
        const layout = (values.layout as string | undefined) ?? 'auto';
        if (!(LAYOUTS as readonly string[]).includes(layout)) throw new CliError(`--layout must be one of ${LAYOUTS.join(', ')}`, ExitCode.USAGE);
        const summary = await importMovieLens(path, out, layout as MovieLensLayout | 'auto', { onProgress: (s, d, t) => progress.update(s, d, t) });
        progress.end();
        if (values.json) console.log(JSON.stringify(summary));
        else {
          const rows = Object.entries(summary.interactions).map(([s, n]) => `${s} ${n}`).join(', ');
          console.log(`${summary.layout} -> ${out}: ${summary.items} items, ${summary.users} users; interactions: ${rows} (liked positives ${summary.likedPositives})`);
        }
      } else {
        const d = await readDataset(path, { onProgress: (s, done, total) => progress.update(s, done, total) });
        progress.end();
        const info = datasetInfo(d);
        console.log(values.json ? JSON.stringify(info) : formatInfo(info));
      }
      return ExitCode.OK;
    } catch (err) {
      progress.end();
      if (err instanceof DatasetError) throw new CliError(err.message, ExitCode.BAD_INPUT);
      throw err;
    }
  },
};
