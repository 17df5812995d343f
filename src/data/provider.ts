/** Which database a DATABASE_URL names. The Prisma schema, client and migrations exist once per provider. */
export type Provider = 'sqlite' | 'postgresql';

export function providerOf(url: string): Provider {
  if (url.startsWith('file:')) return 'sqlite';
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) return 'postgresql';
  throw new Error(`DATABASE_URL must start with file: (SQLite) or postgresql:// (PostgreSQL), got "${url.split('://')[0]}..."`);
}

/** Path of a SQLite file URL (`file:./data/memer.db` -> `./data/memer.db`). */
export function sqlitePath(url: string): string {
  return url.slice('file:'.length).split('?')[0];
}
