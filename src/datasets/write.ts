/** writeDataset(dir, dataset): the inverse of readDataset (items.csv, interactions.csv, users.csv, features/). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CsvWriter } from './csv-writer.js';
import { writeFeature } from './features.js';
import { writeInteractionsCsv } from './interactions.js';
import { writeItemsCsv } from './items.js';
import { MODALITIES, type Dataset } from './types.js';

/**
 * Writes every part of the dataset, creating dir (and dir/features) as needed and overwriting files of the same
 * name. Times: items.csv created_at as ISO-8601 UTC (epoch seconds if not a whole millisecond), interactions.csv
 * timestamp as epoch seconds. users.csv lists userIds in order so that user indices survive a round trip.
 */
export async function writeDataset(dir: string, dataset: Dataset): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeItemsCsv(join(dir, 'items.csv'), dataset.items);
  writeInteractionsCsv(join(dir, 'interactions.csv'), dataset.interactions, dataset.userIds, dataset.items.ids, dataset.signals);
  const users = new CsvWriter(join(dir, 'users.csv'));
  users.row(['user_id']);
  for (const id of dataset.userIds) users.row([id]);
  users.close();
  const present = MODALITIES.filter((m) => dataset.features[m]);
  if (present.length) mkdirSync(join(dir, 'features'), { recursive: true });
  for (const m of present) {
    const f = dataset.features[m];
    if (f) {
      if (f.rows !== dataset.items.ids.length) throw new RangeError(`features.${m} has ${f.rows} rows for ${dataset.items.ids.length} items`);
      writeFeature(dir, m, f);
    }
  }
}
