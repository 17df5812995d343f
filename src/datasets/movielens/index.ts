/** MovieLens into a dataset folder: layout detection and dispatch to the ml-latest-small or ml-100k importer. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import { import100k } from './ml100k.js';
import { importLatestSmall } from './latest-small.js';
import type { ImportSummary, MovieLensOptions } from './sink.js';

export type MovieLensLayout = 'latest-small' | '100k';
export type { ImportSummary, MovieLensOptions } from './sink.js';

/** 'latest-small' when ratings.csv + movies.csv exist, '100k' when u.data + u.item exist, else a DatasetError. */
export function detectLayout(src: string): MovieLensLayout {
  if (existsSync(join(src, 'ratings.csv')) && existsSync(join(src, 'movies.csv'))) return 'latest-small';
  if (existsSync(join(src, 'u.data')) && existsSync(join(src, 'u.item'))) return '100k';
  throw new DatasetError(src, 0, 'not a MovieLens folder: expected ratings.csv + movies.csv (ml-latest-small) or u.data + u.item (ml-100k)');
}

export async function importMovieLens(
  src: string,
  out: string,
  layout: MovieLensLayout | 'auto' = 'auto',
  options: Partial<MovieLensOptions> = {},
): Promise<ImportSummary> {
  const chosen = layout === 'auto' ? detectLayout(src) : layout;
  return chosen === '100k' ? import100k(src, out, options) : importLatestSmall(src, out, options);
}
