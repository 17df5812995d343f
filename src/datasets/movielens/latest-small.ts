/**
 * The ml-latest-small layout (also ml-latest, ml-25m, ml-32m): movies.csv (movieId,title,genres with `|`),
 * ratings.csv (userId,movieId,rating,timestamp), tags.csv (userId,movieId,tag,timestamp, optional), links.csv (unused).
 * All RFC 4180 CSV in UTF-8 with epoch-second timestamps.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { headerIndex, readCsvFile, type CsvRecord } from '../csv.js';
import { DatasetError } from '../errors.js';
import { DEFAULT_MOVIELENS_OPTIONS, MovieLensSink, type ImportSummary, type Movie, type MovieLensOptions } from './sink.js';

const NO_GENRES = '(no genres listed)';

export async function importLatestSmall(src: string, out: string, options: Partial<MovieLensOptions> = {}): Promise<ImportSummary> {
  const o = { ...DEFAULT_MOVIELENS_OPTIONS, ...options };
  const progress = (stage: string) => (o.onProgress ? (done: number, total: number) => o.onProgress?.(stage, done, total) : undefined);
  const movies = new Map<string, Movie>();
  const moviesPath = join(src, 'movies.csv');
  await readRows(moviesPath, ['movieId', 'title', 'genres'], (r, c) => {
    const id = r.text(c.movieId);
    if (id === '') r.fail('empty movieId');
    if (movies.has(id)) r.fail(`duplicate movieId ${id}`);
    const genres = r.text(c.genres).split('|').map((g) => g.trim()).filter((g) => g !== '' && g !== NO_GENRES);
    movies.set(id, { id, title: r.text(c.title), genres });
  }, progress('movies.csv'));

  const sink = new MovieLensSink(out, 'latest-small', movies, o);
  await readRows(join(src, 'ratings.csv'), ['userId', 'movieId', 'rating', 'timestamp'], (r, c) => {
    const { user, movie, time } = common(r, c, sink);
    const rating = r.number(c.rating);
    if (!(rating >= 0.5 && rating <= 5)) r.fail(`rating "${r.text(c.rating)}" is not in 0.5..5`);
    sink.rating(user, movie, rating, time);
  }, progress('ratings.csv'));

  const tagsPath = join(src, 'tags.csv');
  if (existsSync(tagsPath)) {
    await readRows(tagsPath, ['userId', 'movieId', 'tag', 'timestamp'], (r, c) => {
      const { user, movie, time } = common(r, c, sink);
      sink.tag(user, movie, time);
    }, progress('tags.csv'));
  }
  return sink.finish();
}

function common(r: CsvRecord, c: Record<string, number>, sink: MovieLensSink): { user: string; movie: string; time: number } {
  const user = r.text(c.userId);
  const movie = r.text(c.movieId);
  if (user === '') r.fail('empty userId');
  if (!sink.hasMovie(movie)) r.fail(`movieId "${movie}" is not in movies.csv`);
  const time = r.number(c.timestamp);
  if (!Number.isFinite(time)) r.fail(`timestamp "${r.text(c.timestamp)}" is not epoch seconds`);
  return { user, movie, time };
}

/** Reads a headed CSV, checking the required columns and the field count of every row. */
async function readRows(
  path: string,
  required: readonly string[],
  onRow: (r: CsvRecord, columns: Record<string, number>) => void,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  if (!existsSync(path)) throw new DatasetError(path, 0, 'missing (ml-latest-small layout needs movies.csv and ratings.csv)', 'NOT_FOUND');
  let columns: Record<string, number> | undefined;
  let fields = 0;
  await readCsvFile(path, (r) => {
    if (!columns) {
      columns = headerIndex(r, required);
      fields = r.count;
      return;
    }
    if (r.count !== fields) r.fail(`expected ${fields} fields (as in the header), got ${r.count}`);
    onRow(r, columns);
  }, { onProgress });
  if (!columns) throw new DatasetError(path, 1, 'empty file: no header');
}
