/**
 * The recommendation reads through Prisma, on either database: the fallback for a database without a direct connection
 * (SQLite in memory, `file::memory:`), and the refresh window's reads the PostgreSQL store keeps on Prisma (it extends
 * this class). The user lookup is one client call (Prisma's cost is per call).
 */
import type { Prisma } from '../db.js';
import { inChunks } from '../recommend-statements.js';
import type { PostTagsRow, RecommendationReads, StampCount, StampedRow, UserContextRow } from '../recommend-reads.js';

export class PrismaRecommendationReads implements RecommendationReads {
  constructor(protected readonly prisma: Prisma) {}

  async postCounts(since: Date): Promise<StampCount[]> {
    const groups = await this.prisma.post.groupBy({ by: ['registeredAt'], where: { registeredAt: { gt: since } }, _count: { _all: true } });
    return groups.map((g) => ({ at: g.registeredAt.getTime(), n: g._count._all, raw: g.registeredAt }));
  }

  async vectorCounts(signalKey: number, since: Date): Promise<StampCount[]> {
    const groups = await this.prisma.postEmbedding.groupBy({ by: ['updatedAt'], where: { signalId: signalKey, source: { in: ['MATURE', 'MEMER'] }, updatedAt: { gt: since } }, _count: { _all: true } });
    return groups.map((g) => ({ at: g.updatedAt.getTime(), n: g._count._all, raw: g.updatedAt }));
  }

  async postsSince(since: Date): Promise<StampedRow[]> {
    const rows = await this.prisma.post.findMany({ where: { registeredAt: { gt: since } }, select: { id: true, registeredAt: true } });
    return rows.map((r) => ({ key: r.id, at: r.registeredAt.getTime() }));
  }

  async vectorsSince(signalKey: number, since: Date): Promise<StampedRow[]> {
    const rows = await this.prisma.postEmbedding.findMany({ where: { signalId: signalKey, updatedAt: { gt: since }, source: { in: ['MATURE', 'MEMER'] } }, select: { postId: true, updatedAt: true } });
    return rows.map((r) => ({ key: r.postId, at: r.updatedAt.getTime() }));
  }

  postsAt(stamps: readonly StampCount[]): Promise<StampedRow[]> {
    return inChunks(stamps, async (raws) => {
      const rows = await this.prisma.post.findMany({ where: { registeredAt: { in: raws as Date[] } }, select: { id: true, registeredAt: true } });
      return rows.map((r) => ({ key: r.id, at: r.registeredAt.getTime() }));
    });
  }

  vectorsAt(signalKey: number, stamps: readonly StampCount[]): Promise<StampedRow[]> {
    return inChunks(stamps, async (raws) => {
      const rows = await this.prisma.postEmbedding.findMany({ where: { signalId: signalKey, updatedAt: { in: raws as Date[] }, source: { in: ['MATURE', 'MEMER'] } }, select: { postId: true, updatedAt: true } });
      return rows.map((r) => ({ key: r.postId, at: r.updatedAt.getTime() }));
    });
  }

  async userContext(externalId: string, signalKey: number, recentLimit: number): Promise<UserContextRow | null> {
    const user = await this.prisma.user.findUnique({
      where: { externalId },
      select: {
        interactions: { orderBy: { timestamp: 'desc' }, take: recentLimit, select: { postId: true } },
        embeddings: { where: { signalId: signalKey }, select: { vector: true } },
      },
    });
    return user ? { recent: user.interactions.map((i) => i.postId), vector: user.embeddings[0]?.vector ?? null } : null;
  }

  postsByKey(keys: readonly number[]): Promise<PostTagsRow[]> {
    return this.prisma.post.findMany({ where: { id: { in: [...keys] } }, include: { tags: { select: { tag: true } } } });
  }
}
