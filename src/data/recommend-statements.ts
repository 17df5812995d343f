/**
 * What the RecommendationReads implementations (sqlite/, postgres/, prisma/recommend-reads.ts) share: the stamp lists
 * of postsAt and vectorsAt, read in chunks.
 */
import type { StampCount, StampedRow } from './recommend-reads.js';

/** Most stamps in one `IN (...)` list. */
const IN_CHUNK = 256;

/**
 * Runs `read` over the stamps' raw values in chunks; each chunk is padded to a power of two (repeating its last stamp)
 * so that a connection caches a handful of statements rather than one per list length.
 */
export async function inChunks(stamps: readonly StampCount[], read: (raws: unknown[]) => Promise<StampedRow[]>): Promise<StampedRow[]> {
  const out: StampedRow[] = [];
  for (let i = 0; i < stamps.length; i += IN_CHUNK) {
    const raws: unknown[] = stamps.slice(i, i + IN_CHUNK).map((s) => s.raw);
    while (raws.length & (raws.length - 1)) raws.push(raws[raws.length - 1]);
    out.push(...(await read(raws)));
  }
  return out;
}
