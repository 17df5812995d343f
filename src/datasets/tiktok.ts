/**
 * The TikTok micro-video set as published with the DiffMM code (../shared/datasets/tiktok/README.txt):
 * train.csv, validation.csv, test.csv (`user_id,item_id`, implicit positives, disjoint), image_feat.npy and
 * audio_feat.npy (float16 (6710, 128), row = item_id). Mapping (docs/datasets.md, "TikTok"): every row is an
 * `interacted` positive; items are the feature rows 0..6709, all videos, with or without interactions; image_feat
 * becomes features/visual.npy and audio_feat features/audio.npy, float16 kept; no tags, no text, no times (all 0);
 * the upstream split of each row goes to splits.csv.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from './errors.js';
import { readInteractionTables, tableSummary, type TableImportSummary } from './interaction-table.js';
import { replaceDataset } from './replace-dataset.js';

export const TIKTOK_SPLITS = ['train', 'validation', 'test'] as const;
const FEATURES = { visual: 'image_feat.npy', audio: 'audio_feat.npy' } as const;

export interface TikTokSummary extends TableImportSummary {
  /** Rows per upstream split file. */
  splits: Record<(typeof TIKTOK_SPLITS)[number], number>;
  /** Items with no train row (natural cold items: they only appear in validation or test, or nowhere). */
  itemsWithoutTrainInteractions: number;
}

export async function importTikTok(src: string, out: string, options: { onProgress?: (stage: string, done: number, total: number) => void } = {}): Promise<TikTokSummary> {
  const t0 = performance.now();
  const sources = TIKTOK_SPLITS.map((s) => join(src, `${s}.csv`));
  const features = { visual: join(src, FEATURES.visual), audio: join(src, FEATURES.audio) };
  for (const path of [...sources, ...Object.values(features)]) {
    if (!existsSync(path)) throw new DatasetError(path, 0, `missing (a TikTok folder has ${TIKTOK_SPLITS.map((s) => `${s}.csv`).join(', ')}, ${Object.values(FEATURES).join(', ')})`, 'NOT_FOUND');
  }
  // One user_id,item_id table per split; row = item_id in both feature files (checked: ids < rows, equal row counts).
  const { dataset, source, sourceRows } = await readInteractionTables(sources, {
    columns: { user: 'user_id', item: 'item_id' },
    signal: 'interacted',
    features,
    featureIndex: 'id',
    mediaType: 'video',
    name: 'tiktok',
    onProgress: options.onProgress,
  });
  await replaceDataset(out, dataset, { names: TIKTOK_SPLITS, of: source });
  const [train, validation, test] = sourceRows;
  const inTrain = new Uint8Array(dataset.items.ids.length);
  for (let i = 0; i < train; i++) inTrain[dataset.interactions.item[i]] = 1;
  const itemsWithoutTrainInteractions = inTrain.length - inTrain.reduce((a, b) => a + b, 0);
  return { ...tableSummary(out, dataset, t0), splits: { train, validation, test }, itemsWithoutTrainInteractions };
}
