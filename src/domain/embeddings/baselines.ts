/**
 * The paper's initialisation baselines (section 3.1.2), per signal:
 *   GLOBAL_AVG  mean of all MATURE post embeddings of the signal;
 *   TAG_AVG     per tag, mean of the MATURE embeddings of posts with that tag; a post with several tags gets the
 *               mean of its tags' averages (tags without mature posts are skipped; none left -> no TAG_AVG); the
 *               same definition as the offline evaluation's (src/ml/baselines/tag-average.ts);
 *   RANDOM      N(0, 1/d) per component, seeded by the post id and signal name, so it is stable across requests.
 * Averages are cached per signal and recomputed when the set of MATURE embeddings changes, which is detected by a
 * cheap stamp query (matureStamp), so a retrain by another process or replica is picked up. The stamp is
 * checked at most every `ttlMs` per signal (the server's refresh interval: hot paths ask on every request); writes
 * made by this process call `invalidate`.
 */
import { createHash } from 'node:crypto';
import type { Prisma } from '../../data/db.js';
import { bytesToVector } from '../../lib/vectors.js';
import { Rng } from '../../lib/random.js';
import { TagAverageBuilder, tagAverageOf, type TagAverages } from '../../ml/baselines/tag-average.js';

export const DEFAULT_DIM = 32;

/**
 * Identifies a signal's set of MATURE embeddings: their latest updatedAt, one index seek on
 * PostEmbedding(signalId, source, updatedAt). MATURE rows change only by activation, which replaces them all with
 * rows stamped at its time. (It was count + max, which read every MATURE row: hundreds of ms at 1M posts, every
 * refresh, on the event loop.)
 */
export async function matureStamp(prisma: Prisma, signalKey: number): Promise<string> {
  const latest = await prisma.postEmbedding.findFirst({ where: { signalId: signalKey, source: 'MATURE' }, orderBy: { updatedAt: 'desc' }, select: { updatedAt: true } });
  return String(latest?.updatedAt.getTime() ?? 0);
}

type Averages = TagAverages<string> & { stamp: string };

export class BaselineCache {
  private readonly cache = new Map<number, Averages & { checkedAt: number }>();
  private readonly pending = new Map<number, Promise<Averages>>();

  constructor(
    private readonly prisma: Prisma,
    private readonly ttlMs = 0,
  ) {}

  /** Forget the averages of a signal (or all): the next call recomputes them. */
  invalidate(signalKey?: number): void {
    if (signalKey === undefined) this.cache.clear();
    else this.cache.delete(signalKey);
  }

  /** Averages for a signal, recomputed only if the stored MATURE embeddings changed since the last check. */
  async averages(signalKey: number, now = Date.now()): Promise<Averages> {
    const hit = this.cache.get(signalKey);
    if (hit && now - hit.checkedAt < this.ttlMs) return hit;
    const stamp = await matureStamp(this.prisma, signalKey);
    if (hit?.stamp === stamp) {
      hit.checkedAt = now;
      return hit;
    }
    let job = this.pending.get(signalKey);
    if (!job) {
      job = this.compute(signalKey, stamp).finally(() => this.pending.delete(signalKey));
      this.pending.set(signalKey, job);
    }
    const fresh = { ...(await job), checkedAt: now };
    this.cache.set(signalKey, fresh);
    return fresh;
  }

  private async compute(signalKey: number, stamp: string): Promise<Averages> {
    const rows = await this.prisma.postEmbedding.findMany({
      where: { signalId: signalKey, source: 'MATURE' },
      select: { vector: true, post: { select: { tags: { select: { tag: true } } } } },
    });
    const builder = new TagAverageBuilder<string>(rows.length ? rows[0].vector.byteLength / 4 : DEFAULT_DIM);
    for (const row of rows) builder.add(bytesToVector(row.vector), row.post.tags.map((t) => t.tag));
    return { ...builder.result(), stamp };
  }
}

/** Mean of the tag averages of the given tags; null when none of them has mature posts (src/ml/baselines). */
export function tagAverage(averages: TagAverages<string>, tags: readonly string[]): Float32Array | null {
  return tagAverageOf(averages, tags);
}

export function randomEmbedding(postId: string, signal: string, dim: number): Float32Array {
  const seed = createHash('sha256').update(`${postId}\u0000${signal}`).digest().readInt32LE(0);
  const rng = new Rng(seed);
  const sd = 1 / Math.sqrt(dim);
  return Float32Array.from({ length: dim }, () => rng.normal(0, sd));
}
