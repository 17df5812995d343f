/**
 * Personalised recommendations (paper eq. 13): the top-K posts by v_user . v_post over the signal's index, which holds
 * every post's AUTO embedding, brand-new uploads included. Posts the user already interacted with (any signal) are
 * excluded unless excludeSeen is false. A user without an embedding for the signal (new, or not in the last training)
 * falls back to: the posts most often positive for the signal among those sharing tags with the user's recent
 * interactions (POPULAR_IN_TAGS), then the most often positive EARLY posts overall (POPULAR_EARLY); the same fallbacks
 * top up a ranked list shorter than `first`. The request's filters (stage, mediaType, excludeSeen) hold for every
 * strategy: a fallback never brings back a post the ranked list would have filtered out.
 *
 * Online experiments (domain/experiments/): a user in an arm of the experiment running for the signal gets the
 * early-stage posts ranked by the arm's source (a baseline arm: the AUTO index without the posts it ranks differently,
 * merged with the arm's variant, arm-variant.ts), each result names the experiment and arm, and the response's
 * impressions go to the exposure log, which writes them later: the request pays a hash and a queue push.
 */
import type { Prisma } from '../../data/db.js';
import type { RecommendationReads } from '../../data/recommend-reads.js';
import { badInput } from '../../errors.js';
import { bytesToVector } from '../../lib/vectors.js';
import type { ExperimentsService } from '../experiments/experiments.service.js';
import type { RequestLoaders } from '../loaders.js';
import { toPostRecord } from '../posts/post-records.js';
import type { EmbeddingSource, MediaType, PostRecord } from '../types.js';
import { ArmVariant, needsVariant } from './arm-variant.js';
import { metaMediaType, metaSource } from './index-meta.js';
import type { PostIndex } from './post-index.js';
import { stageSql, thresholdsOf } from './stage.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';

export type Strategy = 'EMBEDDING' | 'POPULAR_IN_TAGS' | 'POPULAR_EARLY';

export interface Recommendation {
  post: PostRecord;
  score: number;
  /** The embedding that produced the score; null for popularity fallbacks. */
  source: EmbeddingSource | null;
  strategy: Strategy;
  /** The experiment and arm that ranked it; null outside experiments. */
  experiment: string | null;
  arm: string | null;
}

export interface RecommendRequest {
  userId: string;
  signal: string;
  first: number;
  /** EARLY: posts served by a predicted or baseline embedding; MATURE: posts served by their mature embedding. */
  stage?: 'EARLY' | 'MATURE' | null;
  mediaType?: MediaType | null;
  excludeSeen?: boolean | null;
}

/** The default largest `first` (MEMER_MAX_RECOMMENDATIONS sets another). */
export const MAX_RECOMMENDATIONS = 500;
/** How many of the user's latest interactions define "seen" and "recent tags". */
const SEEN_LIMIT = 10_000;
const RECENT_FOR_TAGS = 50;

export class RecommendationsService {
  constructor(
    private readonly prisma: Prisma,
    private readonly index: PostIndex,
    /** The per-request reads (the user, the result posts): db.stores.recommendations. */
    private readonly reads: RecommendationReads,
    /** The largest `first` (config.maxRecommendations). */
    private readonly maxFirst = MAX_RECOMMENDATIONS,
    /** Assignment to experiment arms and the exposure log; without it nobody is in an experiment. */
    private readonly experiments?: ExperimentsService,
  ) {}

  async recommend(req: RecommendRequest, loaders: RequestLoaders): Promise<Recommendation[]> {
    if (!Number.isInteger(req.first) || req.first < 1 || req.first > this.maxFirst) {
      throw badInput(`first must be between 1 and ${this.maxFirst} (MEMER_MAX_RECOMMENDATIONS), got ${req.first}`, { argument: 'first' });
    }
    const signal = await loaders.signal(req.signal);
    if (req.mediaType && !signal.mediaTypes.includes(req.mediaType)) throw badInput(`${signal.name} does not apply to ${req.mediaType} posts`, { argument: 'mediaType' });
    const assignment = this.experiments ? await this.experiments.assign(signal.key, req.userId) : null;
    const armSource = assignment && needsVariant(assignment.arm.source) ? assignment.arm.source : null;
    const user = await this.reads.userContext(req.userId, signal.key, SEEN_LIMIT);
    const recent = user?.recent ?? [];
    const seen = req.excludeSeen === false ? new Set<number>() : new Set(recent);
    const embedding = user?.vector ? { vector: user.vector } : null;

    const out: { key: number; score: number; source: EmbeddingSource | null; strategy: Strategy }[] = [];
    if (embedding) {
      const { store, variant } = await this.index.ranking(signal.key, armSource);
      const query = bytesToVector(embedding.vector);
      if (query.length === store.dim) {
        const accept = (key: number, meta: number) =>
          !seen.has(key) && (!req.mediaType || metaMediaType(meta) === req.mediaType) && (!req.stage || (metaSource(meta) === 'MATURE') === (req.stage === 'MATURE'));
        if (!variant) {
          for (const hit of await store.searchAsync(query, req.first, accept)) out.push({ key: hit.key, score: hit.score, source: metaSource(hit.meta), strategy: 'EMBEDDING' });
        } else {
          // The arm's ranking: the AUTO index without the posts the arm ranks by its own vectors, and those vectors.
          const [auto, own] = await Promise.all([
            store.searchAsync(query, req.first, (key, meta) => !variant.overrides(key) && accept(key, meta)),
            req.stage === 'MATURE' ? [] : variant.store.searchAsync(query, req.first, (key, meta) => ArmVariant.ranks(meta) && accept(key, meta)),
          ]);
          const merged = [...auto, ...own].sort((a, b) => b.score - a.score || a.key - b.key).slice(0, req.first);
          for (const hit of merged) out.push({ key: hit.key, score: hit.score, source: metaSource(hit.meta), strategy: 'EMBEDDING' });
        }
      }
    }
    if (out.length < req.first) {
      const taken = new Set([...seen, ...out.map((o) => o.key)]);
      for (const p of await this.popular(signal.key, recent.slice(0, RECENT_FOR_TAGS), taken, req, req.first - out.length)) out.push(p);
    }
    const keys = out.map((o) => o.key);
    const posts = (await this.reads.postsByKey(keys)).map(toPostRecord);
    const byKey = new Map(posts.map((p) => [p.key, p]));
    const served = out.filter((o) => byKey.has(o.key));
    if (assignment) this.experiments!.served(assignment, req.userId, served.map((o) => ({ postKey: o.key, source: o.source })));
    const experiment = assignment?.experiment ?? null;
    const arm = assignment?.arm.name ?? null;
    return served.map((o) => ({ post: byKey.get(o.key)!, score: o.score, source: o.source, strategy: o.strategy, experiment, arm }));
  }

  /**
   * Popularity fallbacks: positives for the signal within the user's recent tags, then among EARLY posts. Every
   * filter of the request holds for them as for the ranked list: mediaType, stage (the same definition as the index's,
   * stage.ts) and the posts taken already (seen, or ranked above).
   */
  private async popular(signalKey: number, recentPosts: number[], taken: Set<number>, req: RecommendRequest, want: number) {
    const out: { key: number; score: number; source: null; strategy: Strategy }[] = [];
    const thresholds = await thresholdsOf(this.prisma, signalKey);
    const stage = req.stage ? stageSql(req.stage, signalKey, thresholds) : Sql.sql`1 = 1`;
    if (stage === null) return out; // MATURE before any threshold: no post is mature
    const early = stageSql('EARLY', signalKey, thresholds)!;
    // The media type is a validated enum value (GraphQL), inlined for PostgreSQL's enum comparison.
    const media = req.mediaType ? Sql.sql`p."mediaType" = ${Sql.raw(`'${req.mediaType === 'IMAGE' ? 'IMAGE' : 'VIDEO'}'`)}` : Sql.sql`1 = 1`;
    const pick = async (strategy: Strategy, where: Sql.Sql) => {
      if (out.length >= want) return;
      // Seen posts are filtered here rather than in SQL (a user may have seen thousands).
      const take = want - out.length + Math.min(taken.size, 5000);
      const rows = await this.prisma.$queryRaw<{ postId: number; positives: number }[]>`
        SELECT s."postId", s."positives" FROM "PostSignalStat" s JOIN "Post" p ON p."id" = s."postId"
        WHERE s."signalId" = ${signalKey} AND s."positives" > 0 AND ${media} AND ${where}
        ORDER BY s."positives" DESC, s."postId" DESC LIMIT ${take}`;
      for (const r of rows) {
        const key = Number(r.postId);
        if (taken.has(key)) continue;
        if (out.length >= want) break;
        taken.add(key);
        out.push({ key, score: Number(r.positives), source: null, strategy });
      }
    };
    if (recentPosts.length) {
      // The recent posts' tags as a subquery: a catalogue's posts carry hundreds of tags, too many to bind one by one.
      const recentTags = Sql.sql`SELECT r."tag" FROM "PostTag" r WHERE r."postId" IN (${Sql.join(recentPosts)})`;
      await pick('POPULAR_IN_TAGS', Sql.sql`${stage} AND EXISTS (SELECT 1 FROM "PostTag" t WHERE t."postId" = s."postId" AND t."tag" IN (${recentTags}))`);
    }
    // POPULAR_EARLY is early by definition: with stage MATURE it has nothing to add.
    if (req.stage !== 'MATURE') await pick('POPULAR_EARLY', early);
    return out;
  }
}
