import { existsSync } from 'node:fs';
import { choice } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { datasetInfo, formatInfo } from '../../datasets/info.js';
import { importInteractionTable, type InteractionTableOptions, type TableImportSummary } from '../../datasets/interaction-table.js';
import { importMovieLens, type MovieLensLayout } from '../../datasets/movielens/index.js';
import { ttyProgress } from '../../datasets/progress.js';
import { readDataset } from '../../datasets/read.js';
import { importTikTok } from '../../datasets/tiktok.js';
import { MEDIA_TYPES, MODALITIES, type Modality } from '../../datasets/types.js';

const LAYOUTS = ['auto', 'latest-small', '100k'] as const;
const SUBCOMMANDS = ['movielens', 'tiktok', 'interactions', 'info'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** The flags each subcommand takes; any other is a usage error rather than silently ignored. */
const FLAGS: Record<Sub, readonly string[]> = {
  movielens: ['out', 'layout', 'json'],
  tiktok: ['out', 'json'],
  interactions: ['out', 'json', 'features', 'items', 'feature-index', 'user-col', 'item-col', 'signal-col', 'signal', 'label-col', 'time-col', 'delimiter', 'media-type'],
  info: ['json'],
};

export const command: Command = defineCommand({
  help: [
    'Usage: memer dataset movielens SRC --out DIR [--layout auto|latest-small|100k] [--json]',
    '       memer dataset tiktok SRC --out DIR [--json]',
    '       memer dataset interactions FILE.csv|FILE.tsv --out DIR [--features MODALITY=F.npy ...] [--items F.csv]',
    '             [--user-col C] [--item-col C] [--signal-col C | --signal NAME] [--label-col C] [--time-col C]',
    '             [--delimiter D] [--feature-index id|items] [--media-type video|image] [--json]',
    '       memer dataset info DIR [--json]',
    '',
    'movielens     converts a MovieLens folder to the dataset folder format (docs/datasets.md): signals rated, liked',
    '              (rating >= 4) and tagged; genres become tags, titles text, every movie a video created at its',
    '              first interaction. Layout auto-detected: ratings.csv + movies.csv (ml-latest-small, ml-latest,',
    '              ml-25m) or u.data + u.item (ml-100k). Files of the same name in DIR are overwritten.',
    'tiktok        converts the TikTok folder (train/validation/test.csv, image_feat.npy, audio_feat.npy): one',
    '              signal `interacted` (positives), all 6710 items as videos, features visual and audio (float16),',
    '              every time 0 (the data has none); the upstream split of each row goes to DIR/splits.csv.',
    'interactions  converts one interaction table with a header, plus feature matrices, to a dataset folder. Without',
    '              --items, feature row i is item id i (ids must be integers 0..rows-1; every row is an item); with',
    '              --items, row i is the i-th id listed there. Without features or --items the items are the ids',
    '              seen. Without --time-col every time is 0; without --label-col every row is a positive.',
    '              tiktok and interactions read and check everything before writing: bad input leaves DIR as it was;',
    '              a good one replaces the dataset files in DIR (feature files of other modalities are removed).',
    'info          reads a dataset folder and prints counts per signal, media type and feature modality.',
    '',
    'Options:',
    '  --out DIR             output folder (created if needed)',
    '  --layout NAME         movielens: auto (default), latest-small or 100k',
    '  --features M=FILE     interactions: a (rows, dim) .npy of float16/32/64 for modality M (visual, audio, text,',
    '                        aux); repeatable; any width; float16 stays float16',
    '  --items FILE          interactions: a table whose --item-col column lists the item ids in feature-row order;',
    '                        optional columns created_at, media_type, tags (|-separated) and text as in items.csv',
    '  --feature-index MODE  interactions: id (row = item id; the default without --items) or items (the default with)',
    '  --user-col C          interactions: user column (default user_id)',
    '  --item-col C          interactions: item column (default item_id)',
    '  --signal-col C        interactions: column naming each row\'s signal; else one signal, --signal (default interacted)',
    '  --label-col C         interactions: 1 positive, 0 negative, empty = 1; default every row positive',
    '  --time-col C          interactions: epoch seconds or ISO-8601 (UTC without an offset); default every time 0',
    '  --delimiter D         interactions: one character, or tab; default from the extension (.tsv tab, else comma)',
    '  --media-type T        interactions: video (default) or image, for items --items gives none',
    '  --json                print one JSON object on stdout (progress still goes to stderr on a TTY)',
    '',
    'Exit codes: 2 usage, 3 malformed input (message names file:line), 4 file or folder not found.',
  ].join('\n'),
  options: {
    out: { type: 'string' },
    layout: { type: 'string' },
    json: { type: 'boolean' },
    features: { type: 'string', multiple: true },
    items: { type: 'string' },
    'feature-index': { type: 'string' },
    'user-col': { type: 'string' },
    'item-col': { type: 'string' },
    'signal-col': { type: 'string' },
    signal: { type: 'string' },
    'label-col': { type: 'string' },
    'time-col': { type: 'string' },
    delimiter: { type: 'string' },
    'media-type': { type: 'string' },
  },
  async run({ values, positionals }) {
    const [sub, path, ...extra] = positionals;
    if (extra.length) throw new CliError(`unexpected argument(s): ${extra.join(' ')}`, ExitCode.USAGE);
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new CliError(`expected ${SUBCOMMANDS.join(', ')}\n\n${command.help}`, ExitCode.USAGE);
    const name = sub as Sub;
    const stray = Object.keys(values).filter((k) => values[k] !== undefined && !FLAGS[name].includes(k));
    if (stray.length) throw new CliError(`${name} does not take ${stray.map((k) => `--${k}`).join(', ')}`, ExitCode.USAGE);
    const what = { movielens: 'MovieLens folder', tiktok: 'TikTok folder', interactions: 'interaction table (.csv or .tsv)', info: 'dataset folder' }[name];
    if (!path) throw new CliError(`${name}: name the ${what}`, ExitCode.USAGE);
    if (!existsSync(path)) throw new CliError(`${path}: no such ${name === 'interactions' ? 'file' : 'folder'}`, ExitCode.NOT_FOUND);
    const out = values.out as string | undefined;
    if (name !== 'info' && !out) throw new CliError(`${name} needs --out DIR`, ExitCode.USAGE);
    const tableOptions = name === 'interactions' ? interactionOptions(values) : undefined;
    const progress = ttyProgress(`dataset ${name}`);
    const onProgress = (s: string, done: number, total: number) => progress.update(s, done, total);
    try {
      if (name === 'movielens') {
        const layout = (values.layout as string | undefined) ?? 'auto';
        if (!(LAYOUTS as readonly string[]).includes(layout)) throw new CliError(`--layout must be one of ${LAYOUTS.join(', ')}`, ExitCode.USAGE);
        const summary = await importMovieLens(path, out as string, layout as MovieLensLayout | 'auto', { onProgress });
        progress.end();
        if (values.json) console.log(JSON.stringify(summary));
        else {
          const rows = Object.entries(summary.interactions).map(([s, n]) => `${s} ${n}`).join(', ');
          console.log(`${summary.layout} -> ${out}: ${summary.items} items, ${summary.users} users; interactions: ${rows} (liked positives ${summary.likedPositives})`);
        }
      } else if (name === 'tiktok') {
        const summary = await importTikTok(path, out as string, { onProgress });
        progress.end();
        const splits = Object.entries(summary.splits).map(([s, n]) => `${s} ${n}`).join(', ');
        console.log(values.json ? JSON.stringify(summary) : `tiktok -> ${out}: ${summaryLine(summary)}; splits: ${splits} (${summary.itemsWithoutTrainInteractions} items without a train row)`);
      } else if (name === 'interactions') {
        const summary = await importInteractionTable(path, out as string, { ...tableOptions, onProgress });
        progress.end();
        console.log(values.json ? JSON.stringify(summary) : `${path} -> ${out}: ${summaryLine(summary)}`);
      } else {
        const d = await readDataset(path, { onProgress });
        progress.end();
        const info = datasetInfo(d);
        if (values.json) console.log(JSON.stringify(info));
        else {
          // Titles and tags can stand in for content features in the evaluation.
          const hint = Object.keys(info.modalities).length === 0 && (info.tags > 0 || d.items.text.some((t) => t !== ''));
          console.log(formatInfo(info) + (hint ? ' (memer evaluate --hash-text D and memer train --hash-text D derive a text feature from titles and tags)' : ''));
        }
      }
      return ExitCode.OK;
    } catch (err) {
      progress.end();
      throw err;
    }
  },
});

function summaryLine(s: TableImportSummary): string {
  const rows = Object.entries(s.interactions).map(([k, n]) => `${k} ${n}`).join(', ');
  const features = Object.entries(s.features).map(([m, f]) => `${m} ${f.dim}-d ${f.dtype}`).join(', ') || 'none';
  return `${s.items} items (${s.itemsWithoutInteractions} without interactions), ${s.users} users; interactions: ${rows} (${s.positives} positive, ${s.negatives} negative); features: ${features} (${s.seconds} s)`;
}

/** The interactions subcommand's flags as importer options; bad values are usage errors, missing files not-found. */
function interactionOptions(values: Record<string, unknown>): Partial<InteractionTableOptions> {
  const str = (flag: string) => {
    const v = values[flag] as string | undefined;
    if (v !== undefined && v.trim() === '') throw new CliError(`--${flag} is empty`, ExitCode.USAGE);
    return v;
  };
  const features: Partial<Record<Modality, string>> = {};
  for (const spec of (values.features as string[] | undefined) ?? []) {
    const eq = spec.indexOf('=');
    const modality = spec.slice(0, eq) as Modality;
    const file = spec.slice(eq + 1);
    if (eq < 0 || !MODALITIES.includes(modality) || file === '') throw new CliError(`--features expects MODALITY=FILE.npy with MODALITY one of ${MODALITIES.join(', ')}, got "${spec}"`, ExitCode.USAGE);
    if (features[modality]) throw new CliError(`--features ${modality} given twice`, ExitCode.USAGE);
    features[modality] = file;
  }
  const items = str('items');
  for (const file of [...Object.values(features), ...(items ? [items] : [])]) if (!existsSync(file)) throw new CliError(`${file}: no such file`, ExitCode.NOT_FOUND);
  const featureIndex = choice('feature-index', str('feature-index'), ['id', 'items'] as const);
  if (featureIndex === 'items' && !items) throw new CliError('--feature-index items needs --items FILE', ExitCode.USAGE);
  if (featureIndex === 'id' && items) throw new CliError('--feature-index id takes the items from the feature rows; drop --items or use --feature-index items', ExitCode.USAGE);
  if (featureIndex === 'id' && Object.keys(features).length === 0) throw new CliError('--feature-index id needs --features', ExitCode.USAGE);
  if (values['signal-col'] !== undefined && values.signal !== undefined) throw new CliError('give --signal-col or --signal, not both', ExitCode.USAGE);
  let delimiter = str('delimiter');
  if (delimiter === 'tab' || delimiter === '\\t') delimiter = '\t';
  if (delimiter !== undefined && Buffer.byteLength(delimiter) !== 1) throw new CliError(`--delimiter expects one character or "tab", got "${delimiter}"`, ExitCode.USAGE);
  if (delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw new CliError(`--delimiter cannot be ${JSON.stringify(delimiter)}`, ExitCode.USAGE);
  return {
    columns: { user: str('user-col') ?? 'user_id', item: str('item-col') ?? 'item_id', signal: str('signal-col'), label: str('label-col'), time: str('time-col') },
    signal: str('signal') ?? 'interacted',
    delimiter,
    features,
    items,
    featureIndex,
    mediaType: choice('media-type', str('media-type'), MEDIA_TYPES) ?? 'video',
  };
}
