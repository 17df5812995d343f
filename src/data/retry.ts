/**
 * Two clients registering the same new id at the same moment both pass the existence check; the loser's insert
 * violates the unique index (Prisma P2002). Running its transaction again sees the winner's row and takes the
 * idempotent path, so a concurrent retry never surfaces as an error.
 */
export async function retryOnUniqueViolation<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts || !isUniqueViolation(err)) throw err;
    }
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === 'P2002' || /unique constraint/i.test(e?.message ?? '');
}
