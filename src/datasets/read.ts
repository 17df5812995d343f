/**
 * readDataset(dir): a dataset folder (docs/architecture.md "Data formats", docs/datasets.md) into the columnar Dataset.
 * items.csv and interactions.csv are required, users.csv and features/<modality>.npy optional. Every malformed row is a
 * DatasetError naming file and line; nothing is skipped silently.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { headerIndex, readCsvFile, type CsvRecord } from './csv.js';
import { DatasetError } from './errors.js';
import { readFeatures } from './features.js';
import { InteractionsParser } from './interactions.js';
import { ByteInterner } from './interner.js';
import { readItemsCsv } from './items.js';
import { MODALITIES, type Dataset, type Modality } from './types.js';

export interface ReadDatasetOptions {
  /** Which feature modalities to load: true = all present (default), false = none, or a list. */
  readonly features: boolean | readonly Modality[];
  /** Progress per file: stage name, bytes read, file size. */
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_READ_OPTIONS: Readonly<ReadDatasetOptions> = Object.freeze({ features: true });

export async function readDataset(dir: string, options: Partial<ReadDatasetOptions> = {}): Promise<Dataset> {
  const o = { ...DEFAULT_READ_OPTIONS, ...options };
  const progress = (stage: string) => (o.onProgress ? (done: number, total: number) => o.onProgress?.(stage, done, total) : undefined);
  const itemsPath = join(dir, 'items.csv');
  const interactionsPath = join(dir, 'interactions.csv');
  if (!existsSync(dir)) throw new DatasetError(dir, 0, 'no such folder', 'NOT_FOUND');
  for (const p of [itemsPath, interactionsPath]) if (!existsSync(p)) throw new DatasetError(p, 0, 'missing (a dataset folder needs items.csv and interactions.csv)', 'NOT_FOUND');

  const { table: items, index } = await readItemsCsv(itemsPath, { onProgress: progress('items') });
  const users = new ByteInterner();
  const usersPath = join(dir, 'users.csv');
  if (existsSync(usersPath)) await readUsersCsv(usersPath, users);

  const parser = new InteractionsParser({ items: index, users });
  await readCsvFile(interactionsPath, parser.onRecord, { onProgress: progress('interactions') });
  if (!parser.started) throw new DatasetError(interactionsPath, 1, 'empty file: no header');

  const which = o.features === true ? MODALITIES : o.features === false ? [] : o.features;
  const features = await readFeatures(dir, items.ids.length, which);
  return {
    name: basename(resolve(dir)),
    items,
    userIds: users.ids,
    signals: parser.signals.ids,
    interactions: parser.take(),
    features,
  };
}

/** users.csv: a `user_id` column (other columns are attributes, read past); duplicate ids are an error. */
export async function readUsersCsv(path: string, users: ByteInterner): Promise<void> {
  let col: Record<string, number> | undefined;
  let fields = 0;
  await readCsvFile(path, (r: CsvRecord) => {
    if (!col) {
      col = headerIndex(r, ['user_id']);
      fields = r.count;
      return;
    }
    if (r.count !== fields) r.fail(`expected ${fields} fields (as in the header), got ${r.count}`);
    if (r.isEmpty(col.user_id)) r.fail('empty user_id');
    const before = users.size;
    users.intern(r.bytes, r.start(col.user_id), r.end(col.user_id));
    if (users.size === before) r.fail(`duplicate user_id "${r.text(col.user_id)}"`);
  });
}
