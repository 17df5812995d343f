/**
 * A post's stage for a signal, as a database filter, by the AUTO rule (embeddings/source.ts) that also decides what
 * the recommendation index holds: MATURE = served by its mature embedding, i.e. its views reached the threshold M of
 * its media type and the backbone has a MATURE vector for it; EARLY = every other post (served by a MEMER prediction
 * or a baseline). The ranked list of `recommendations` (the index's metadata) and the `posts` filter use exactly this
 * definition; the popularity fallbacks use it for MATURE and a subset of it for EARLY (stageSql), so that no strategy
 * ever returns a post outside the requested stage.
 */
import type { Prisma } from '../../data/db.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';
import { MEDIA_BY_INDEX as MEDIA_TYPES, type MediaType } from '../types.js';

export type Stage = 'EARLY' | 'MATURE';

/** The signal's maturity thresholds by media type (media types without one have no MATURE post yet). */
export async function thresholdsOf(prisma: Prisma, signalKey: number): Promise<Map<MediaType, number>> {
  return new Map((await prisma.maturityThreshold.findMany({ where: { signalId: signalKey } })).map((t) => [t.mediaType, t.threshold]));
}

/**
 * A Prisma `Post` filter for the posts in `stage` for the signal; null when no post can be in it (MATURE before any
 * threshold is known). Optionally narrowed to one media type.
 */
export function stageWhere(stage: Stage, signalKey: number, thresholds: ReadonlyMap<MediaType, number>, mediaType?: MediaType | null): Record<string, unknown> | null {
  const mature = [...thresholds]
    .filter(([m]) => !mediaType || m === mediaType)
    .map(([m, threshold]) => ({
      mediaType: m,
      // A post without views has 0 of them: only a threshold of 0 lets it be mature.
      ...(threshold > 0 ? { stats: { some: { signalId: signalKey, total: { gte: threshold } } } } : {}),
      embeddings: { some: { signalId: signalKey, source: 'MATURE' } },
    }));
  const media = mediaType ? { mediaType } : {};
  if (stage === 'MATURE') return mature.length ? { ...media, OR: mature } : null;
  return mature.length ? { ...media, NOT: { OR: mature } } : media;
}

/**
 * The stage in SQL over a signal's `PostSignalStat` row `s` joined to its `Post` `p`, for the popularity fallbacks,
 * which walk the (signalId, positives) index from the most positive row down. Null: no row can match.
 * - MATURE: exactly as above (views past M and a MATURE vector), the vector probed only for rows past M.
 * - EARLY: views below M. That never takes in a post served by its mature embedding; it leaves out the few posts
 *   past M whose MATURE vector the next training will learn (served by MEMER meanwhile, EARLY for the ranked list).
 *   The exact test costs a probe of PostEmbedding, or a hash of every MATURE vector, per fallback request: on 50k
 *   stat rows whose most popular were mature, 29-46 ms on PostgreSQL instead of 6 (a growing cost with the catalogue).
 */
export function stageSql(stage: Stage, signalKey: number, thresholds: ReadonlyMap<MediaType, number>): Sql.Sql | null {
  // Media type names are the enum's (checked), inlined so that PostgreSQL compares them with its enum type.
  const media = (m: MediaType) => {
    if (!MEDIA_TYPES.includes(m)) throw new Error(`unknown media type ${m}`);
    return Sql.raw(`p."mediaType" = '${m}'`);
  };
  const known = [...thresholds];
  if (stage === 'MATURE') {
    if (known.length === 0) return null;
    const min = Math.min(...known.map(([, t]) => t));
    const crossed = known.map(([m, t]) => Sql.sql`(${media(m)} AND s."total" >= ${t})`);
    return Sql.sql`(s."total" >= ${min} AND (${Sql.join(crossed, ' OR ')})
      AND EXISTS (SELECT 1 FROM "PostEmbedding" e WHERE e."postId" = s."postId" AND e."signalId" = ${signalKey} AND e."source" = 'MATURE'))`;
  }
  const below = MEDIA_TYPES.map((m) => (thresholds.has(m) ? Sql.sql`(${media(m)} AND s."total" < ${thresholds.get(m)!})` : Sql.sql`${media(m)}`));
  // Media types without a threshold have no mature post: every view count is early there.
  if (known.length < MEDIA_TYPES.length) return Sql.sql`(${Sql.join(below, ' OR ')})`;
  // The largest M first, on the stat row alone: the index walk drops the rows past it without a join.
  return Sql.sql`(s."total" < ${Math.max(...known.map(([, t]) => t))} AND (${Sql.join(below, ' OR ')}))`;
}
