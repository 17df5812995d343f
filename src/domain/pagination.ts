/**
 * Relay-style cursor pagination. Cursors are opaque base64url JSON of the sort key of the last row, so they never
 * expose internal keys and stay valid while rows are inserted before or after them.
 */
import { badInput, quote } from '../errors.js';
import { badString } from '../lib/storable-text.js';

export const MAX_PAGE = 100;

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor holds; `types` says what each element must be ('number' = a finite number). */
export function decodeCursor(cursor: string, types: readonly ('string' | 'number')[]): (string | number)[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // A string key with NUL or a lone surrogate can match no stored id (and PostgreSQL refuses NUL in a query).
    const fits = (k: unknown, i: number) => typeof k === types[i] && (typeof k === 'number' ? Math.abs(k) <= 8.64e15 : badString(k as string) === null);
    if (Array.isArray(key) && key.length === types.length && key.every(fits)) return key;
  } catch {
    /* fall through */
  }
  throw badInput(`invalid cursor ${quote(cursor)}`, { argument: 'after' });
}

export function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}, got ${first}`, { argument: 'first' });
  return first;
}

/** Rows were fetched with `take: first + 1`; trim the extra one and build the page. */
export function toPage<T>(rows: T[], first: number, keyOf: (row: T) => (string | number)[]): Page<T> {
  const nodes = rows.slice(0, first);
  const cursors = nodes.map((n) => encodeCursor(keyOf(n)));
  return { nodes, cursors, hasNextPage: rows.length > first, endCursor: cursors.at(-1) ?? null };
}
