/**
 * Retrying a whole transaction after a transient failure, which leaves nothing written:
 * - a unique violation (Prisma P2002): two clients registering the same new id at the same moment both pass the
 *   existence check; the loser's retry sees the winner's row and takes the idempotent path;
 * - SQLITE_BUSY: another process (`memer train --activate`, `memer import`) holds SQLite's write lock while this
 *   deferred transaction wanted to upgrade to a writer, which busy_timeout does not wait for; a retry after a short
 *   pause goes through once the other writer commits.
 */
export async function retryTransaction<T>(work: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      const busy = isBusy(err);
      if (i >= attempts || !(busy || (isUniqueViolation(err) && i < 3))) throw err;
      if (busy) await new Promise((r) => setTimeout(r, 25 * 2 ** i * (0.5 + Math.random())));
    }
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === 'P2002' || /unique constraint/i.test(e?.message ?? '');
}

/** SQLITE_BUSY and SQLITE_BUSY_SNAPSHOT, however the adapter wraps them (message, or the driver error's cause). */
export function isBusy(err: unknown): boolean {
  const e = err as { message?: string; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } } | null;
  const code = e?.meta?.driverAdapterError?.cause?.originalCode ?? '';
  return code.startsWith('SQLITE_BUSY') || /SQLITE_BUSY|database is locked/.test(e?.message ?? '');
}
