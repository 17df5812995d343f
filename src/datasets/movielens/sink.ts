/**
 * Shared back end of the MovieLens importers: streams interaction rows to interactions.csv as the source files are
 * read, remembers each movie's first interaction, and writes items.csv and users.csv at the end.
 * Mapping (docs/datasets.md): rated = every rating (label 1); liked = label 1 if rating >= threshold else 0;
 * tagged = every tag application (label 1); item tags = genres; text = title; media_type = video;
 * created_at = the movie's first interaction of any signal.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CsvWriter } from '../csv-writer.js';
import { INTERACTION_COLUMNS } from '../interactions.js';
import { buildItemTable, writeItemsCsv } from '../items.js';

export interface MovieLensOptions {
  /** Ratings at or above this are `liked` = 1, below are `liked` = 0 (default 4, as in the spec). */
  readonly likedThreshold: number;
  /** Progress: stage (source file name), bytes read, file size. */
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_MOVIELENS_OPTIONS: Readonly<MovieLensOptions> = Object.freeze({ likedThreshold: 4 });

export interface Movie {
  id: string;
  title: string;
  genres: string[];
}

export interface ImportSummary {
  layout: 'latest-small' | '100k';
  out: string;
  items: number;
  users: number;
  /** Rows per signal written to interactions.csv. */
  interactions: Record<string, number>;
  /** Positive `liked` rows (rating >= threshold). */
  likedPositives: number;
  /** Movies with no interaction at all (their created_at is the last interaction time of the whole log). */
  itemsWithoutInteractions: number;
}

export class MovieLensSink {
  private readonly writer: CsvWriter;
  private readonly users = new Map<string, number>();
  private readonly userAttributes: string[][] = [];
  private readonly first = new Map<string, number>();
  private lastTime = -Infinity;
  readonly counts: Record<string, number> = {};
  likedPositives = 0;

  constructor(
    readonly out: string,
    readonly layout: ImportSummary['layout'],
    private readonly movies: ReadonlyMap<string, Movie>,
    private readonly options: MovieLensOptions,
  ) {
    mkdirSync(out, { recursive: true });
    this.writer = new CsvWriter(join(out, 'interactions.csv'));
    this.writer.row(INTERACTION_COLUMNS);
  }

  hasMovie(id: string): boolean {
    return this.movies.has(id);
  }

  /** One rating: a `rated` row and a `liked` row. */
  rating(user: string, movie: string, rating: number, time: number): void {
    const liked = rating >= this.options.likedThreshold ? 1 : 0;
    this.likedPositives += liked;
    this.row(user, movie, 'rated', time, 1);
    this.row(user, movie, 'liked', time, liked);
  }

  /** One tag application: a `tagged` row. */
  tag(user: string, movie: string, time: number): void {
    this.row(user, movie, 'tagged', time, 1);
  }

  /** Registers a user with attribute values (ml-100k u.user); users seen only in interactions get none. */
  user(id: string, attributes: string[]): void {
    if (!this.users.has(id)) {
      this.users.set(id, this.userAttributes.length);
      this.userAttributes.push(attributes);
    }
  }

  /** Writes items.csv and users.csv (with `attributeNames` columns after user_id) and returns the counts. */
  finish(attributeNames: readonly string[] = []): ImportSummary {
    this.writer.close();
    let without = 0;
    const end = Number.isFinite(this.lastTime) ? this.lastTime : 0;
    const rows = [...this.movies.values()].map((m) => {
      const t = this.first.get(m.id);
      if (t === undefined) without++;
      return { id: m.id, createdAt: t ?? end, mediaType: 'video' as const, tags: m.genres, text: m.title };
    });
    writeItemsCsv(join(this.out, 'items.csv'), buildItemTable(rows));
    const users = new CsvWriter(join(this.out, 'users.csv'));
    users.row(['user_id', ...attributeNames]);
    for (const [id, k] of this.users) {
      users.text(id);
      for (let a = 0; a < attributeNames.length; a++) users.text(this.userAttributes[k][a] ?? '');
      users.end();
    }
    users.close();
    return {
      layout: this.layout,
      out: this.out,
      items: rows.length,
      users: this.users.size,
      interactions: { ...this.counts },
      likedPositives: this.likedPositives,
      itemsWithoutInteractions: without,
    };
  }

  private row(user: string, movie: string, signal: string, time: number, label: number): void {
    this.user(user, []);
    const f = this.first.get(movie);
    if (f === undefined || time < f) this.first.set(movie, time);
    if (time > this.lastTime) this.lastTime = time;
    const w = this.writer;
    w.text(user);
    w.text(movie);
    w.text(signal);
    w.number(time);
    w.number(label);
    w.end();
    this.counts[signal] = (this.counts[signal] ?? 0) + 1;
  }
}
