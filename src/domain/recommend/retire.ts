/**
 * A replaced vector store (an index rebuilt after a backbone change, an experiment arm no longer needed) is disposed
 * only after a grace period: a request that took the old store just before the swap still runs its search on it
 * (`memer bench soak` caught "Session already disposed" during an activation under load when it was disposed at once).
 * A request holds a store for one search, milliseconds, so a few seconds cover it.
 */
export const RETIRE_MS = 5000;

export function retireLater(dispose: () => Promise<void>, ms = RETIRE_MS): void {
  const timer = setTimeout(() => void dispose().catch(() => undefined), ms);
  timer.unref?.();
}
