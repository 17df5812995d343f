/**
 * The write step of the table importers (interaction-table.ts, tiktok.ts): the Dataset is complete and checked in
 * memory by now, so a bad input never reaches this point and the output folder is only touched for a good one.
 * Dataset files in the folder that this import does not produce are removed: a feature modality or splits.csv left
 * from an earlier import would describe other items and be read with the new ones.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CsvWriter } from './csv-writer.js';
import { featurePath } from './features.js';
import { MODALITIES, type Dataset } from './types.js';
import { writeDataset } from './write.js';

/** Optional file naming the upstream split of each interaction row (`user_id,item_id,split`). */
export const SPLITS_FILE = 'splits.csv';

export interface RowSplits {
  /** Split names, e.g. train, validation, test. */
  names: readonly string[];
  /** Per interaction row, an index into names. */
  of: Uint8Array;
}

export async function replaceDataset(out: string, dataset: Dataset, splits?: RowSplits): Promise<void> {
  await writeDataset(out, dataset);
  for (const m of MODALITIES) if (!dataset.features[m]) rmSync(featurePath(out, m), { force: true });
  const path = join(out, SPLITS_FILE);
  if (!splits) {
    rmSync(path, { force: true });
    return;
  }
  const x = dataset.interactions;
  const w = new CsvWriter(path);
  w.row(['user_id', 'item_id', 'split']);
  for (let i = 0; i < x.length; i++) {
    w.text(dataset.userIds[x.user[i]]);
    w.text(dataset.items.ids[x.item[i]]);
    w.text(splits.names[splits.of[i]]);
    w.end();
  }
  w.close();
}
