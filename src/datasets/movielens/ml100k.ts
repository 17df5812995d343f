/**
 * The ml-100k layout: u.data (tab-separated `user item rating timestamp`), u.item (`|`-separated latin1:
 * id|title|release date|video release date|IMDb URL|19 genre flags), u.genre (`name|index`, optional: the standard
 * 19 names are used when it is absent), u.user (`id|age|gender|occupation|zip code`, optional). No quoting anywhere.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvFile, type CsvRecord } from '../csv.js';
import { DatasetError } from '../errors.js';
import { DEFAULT_MOVIELENS_OPTIONS, MovieLensSink, type ImportSummary, type Movie, type MovieLensOptions } from './sink.js';

/** Genre names of ml-100k in flag order (the content of its u.genre). */
export const ML100K_GENRES: readonly string[] = Object.freeze([
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy',
  'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
]);

const USER_ATTRIBUTES = ['age', 'gender', 'occupation', 'zip_code'];

export async function import100k(src: string, out: string, options: Partial<MovieLensOptions> = {}): Promise<ImportSummary> {
  const o = { ...DEFAULT_MOVIELENS_OPTIONS, ...options };
  const progress = (stage: string) => (o.onProgress ? (done: number, total: number) => o.onProgress?.(stage, done, total) : undefined);
  const read = (name: string, delimiter: string, expected: number, onRow: (r: CsvRecord) => void) => {
    const path = join(src, name);
    if (!existsSync(path)) throw new DatasetError(path, 0, 'missing (ml-100k layout needs u.data and u.item)', 'NOT_FOUND');
    return readCsvFile(path, (r) => {
      if (r.count !== expected) r.fail(`expected ${expected} ${JSON.stringify(delimiter)}-separated fields, got ${r.count}`);
      onRow(r);
    }, { delimiter, quoting: false, encoding: 'latin1', onProgress: progress(name) });
  };

  let genres = ML100K_GENRES;
  if (existsSync(join(src, 'u.genre'))) {
    const names: string[] = [];
    await read('u.genre', '|', 2, (r) => {
      const index = r.number(1);
      if (!Number.isInteger(index) || index < 0) r.fail(`genre index "${r.text(1)}" is not a non-negative integer`);
      names[index] = r.text(0);
    });
    genres = names;
  }
  const movies = new Map<string, Movie>();
  await read('u.item', '|', 5 + genres.length, (r) => {
    const id = r.text(0);
    if (id === '') r.fail('empty movie id');
    if (movies.has(id)) r.fail(`duplicate movie id ${id}`);
    const g: string[] = [];
    for (let k = 0; k < genres.length; k++) {
      const flag = r.text(5 + k);
      if (flag !== '0' && flag !== '1') r.fail(`genre flag ${k + 1} is "${flag}", not 0 or 1`);
      if (flag === '1' && genres[k] !== 'unknown') g.push(genres[k]);
    }
    movies.set(id, { id, title: r.text(1), genres: g });
  });

  const sink = new MovieLensSink(out, '100k', movies, o);
  if (existsSync(join(src, 'u.user'))) {
    await read('u.user', '|', 5, (r) => sink.user(r.text(0), [1, 2, 3, 4].map((k) => r.text(k))));
  }
  await read('u.data', '\t', 4, (r) => {
    const user = r.text(0);
    const movie = r.text(1);
    if (!sink.hasMovie(movie)) r.fail(`item id "${movie}" is not in u.item`);
    const rating = r.number(2);
    if (!(rating >= 1 && rating <= 5)) r.fail(`rating "${r.text(2)}" is not in 1..5`);
    const time = r.number(3);
    if (!Number.isFinite(time)) r.fail(`timestamp "${r.text(3)}" is not epoch seconds`);
    sink.rating(user, movie, rating, time);
  });
  return sink.finish(existsSync(join(src, 'u.user')) ? USER_ATTRIBUTES : []);
}
