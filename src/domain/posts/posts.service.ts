/**
 * Registering and reading posts. A registration batch is validated whole before the transaction starts, then written
 * in one transaction (post rows, tags, features); replaying a registration with the same payload returns the stored
 * post, a different payload under the same id is a CONFLICT and nothing of the batch is written.
 */
import type { Db, Prisma, Tx } from '../../data/db.js';
import type { Provider } from '../../data/provider.js';
import { retryTransaction } from '../../data/retry.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';
import { badInput } from '../../errors.js';
import { checkFirst, decodeCursor, toPage, type Page } from '../pagination.js';
import { stageWhere, thresholdsOf, type Stage } from '../recommend/stage.js';
import type { MediaType, PostRecord, SignalRecord } from '../types.js';
import type { FeatureRules } from './feature-widths.js';
import { normalizePost, type NormalizedPost, type PostInput } from './post.validation.js';
import { checkStored, freshRecord, toPostRecord, uniqueById, type Written } from './post-records.js';

const withTags = { tags: { select: { tag: true } } } as const;

export interface RegisterResult {
  post: PostRecord;
  /** False when the post already existed with the same payload (an idempotent retry). */
  created: boolean;
}

export interface PostFilter {
  mediaType?: MediaType | null;
  tag?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  /** Only posts of the media types the signal applies to (and, with `stage`, at that stage for it). */
  signal?: Pick<SignalRecord, 'key' | 'mediaTypes'> | null;
  stage?: Stage | null;
}

/** Rows per INSERT statement: at most 6 parameters a row, under both databases' bound-parameter limits. */
const CHUNK = 3000;

/**
 * Inserts the posts not stored yet (post rows, tags, features) inside the caller's transaction. A stored post with the
 * same payload hash is kept (idempotent retry); a different one is a CONFLICT. Returns every post's record (the new
 * ones built from what was written, so no second read) and which ones were created.
 *
 * The inserts are plain multi-row SQL: Prisma's createMany spends ~2.7 ms of CPU on an upload's four feature blobs
 * (4.5 KB) where the same statement as raw SQL takes 0.3 ms (measured on the 2-core development machine). On SQLite,
 * uploads use writePostsDirect (posts.direct.ts) instead, the same rules on the direct connection.
 */
export async function writePosts(tx: Tx, provider: Provider, posts: NormalizedPost[], now = new Date()): Promise<Written> {
  // Tags are read only for posts that exist (a retry); new uploads, the common case, cost one query here.
  const hashes = await tx.post.findMany({ where: { externalId: { in: posts.map((p) => p.externalId) } }, select: { externalId: true, payloadHash: true } });
  const stored = new Map(hashes.map((e) => [e.externalId, e.payloadHash]));
  checkStored(stored, posts);
  const existing = stored.size ? await tx.post.findMany({ where: { externalId: { in: [...stored.keys()] } }, include: withTags }) : [];
  const records = new Map(existing.map((e) => [e.externalId, toPostRecord(e)]));
  const fresh = posts.filter((p) => !records.has(p.externalId));
  // PostgreSQL stores enums as types: bound text parameters need a cast; SQLite stores text.
  const cast = (type: string) => (provider === 'postgresql' ? Sql.raw(`::"${type}"`) : Sql.empty);
  const keyOf = new Map<string, number>();
  for (const part of chunked(fresh)) {
    const values = part.map((p) => Sql.sql`(${p.externalId}, ${p.mediaType}${cast('MediaType')}, ${p.text}, ${p.createdAt}, ${now}, ${p.payloadHash})`);
    const rows = await tx.$queryRaw<{ id: number; externalId: string }[]>`
      INSERT INTO "Post" ("externalId", "mediaType", "text", "createdAt", "registeredAt", "payloadHash") VALUES ${Sql.join(values)}
      RETURNING "id", "externalId"`;
    for (const r of rows) keyOf.set(r.externalId, Number(r.id));
  }
  for (const p of fresh) records.set(p.externalId, freshRecord(p, keyOf.get(p.externalId)!, now));
  for (const part of chunked(fresh.flatMap((p) => p.tags.map((tag) => Sql.sql`(${keyOf.get(p.externalId)!}, ${tag})`)))) {
    await tx.$executeRaw`INSERT INTO "PostTag" ("postId", "tag") VALUES ${Sql.join(part)}`;
  }
  const features = fresh.flatMap((p) =>
    p.features.map((f) => Sql.sql`(${keyOf.get(p.externalId)!}, ${f.modality}${cast('Modality')}, ${'FLOAT16'}${cast('FeatureDtype')}, ${f.dim}, ${f.data})`),
  );
  for (const part of chunked(features)) {
    await tx.$executeRaw`INSERT INTO "PostFeature" ("postId", "modality", "dtype", "dim", "data") VALUES ${Sql.join(part)}`;
  }
  return { records, created: new Set(fresh.map((p) => p.externalId)), at: now };
}

function chunked<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

/** Work done inside a registration's transaction, after the posts are written (uploads store their embeddings). */
export type WithinWrite = (tx: Tx, written: Written) => Promise<void>;

export class PostsService {
  private readonly prisma: Prisma;

  constructor(
    private readonly db: Db,
    /** The feature widths registrations are checked against now (FeatureWidths.current). */
    private readonly rules: () => FeatureRules,
  ) {
    this.prisma = db.prisma;
  }

  /** Checks one registration (BAD_USER_INPUT naming `path`) without writing anything. */
  normalize(input: PostInput, path: string): NormalizedPost {
    return normalizePost(input, this.rules(), path);
  }

  /**
   * Writes already-validated registrations in one Prisma transaction (all or nothing). Results follow the input
   * order. `within` runs inside the same transaction after the posts are written. (Uploads to a SQLite file write through
   * the direct connection instead: uploads/write-direct.ts.)
   */
  async registerNormalized(normalized: NormalizedPost[], within?: WithinWrite): Promise<RegisterResult[]> {
    const unique = uniqueById(normalized);
    const { records, created } = await retryTransaction(() =>
      this.prisma.$transaction(
        async (tx) => {
          const written = await writePosts(tx as Tx, this.db.provider, unique, new Date());
          await within?.(tx as Tx, written);
          return written;
        },
        { timeout: 60_000, maxWait: 30_000 },
      ),
    );
    return normalized.map((p) => ({ post: records.get(p.externalId)!, created: created.has(p.externalId) }));
  }

  async byIds(ids: readonly string[]): Promise<(PostRecord | null)[]> {
    const rows = await this.prisma.post.findMany({ where: { externalId: { in: [...ids] } }, include: withTags });
    const byId = new Map(rows.map((r) => [r.externalId, toPostRecord(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Newest first (createdAt, then id, descending). With filter.stage EARLY: every early-stage candidate of a signal. */
  async list(first: number, after: string | null | undefined, filter: PostFilter = {}): Promise<Page<PostRecord>> {
    checkFirst(first);
    const where: Record<string, unknown>[] = [];
    if (filter.mediaType) where.push({ mediaType: filter.mediaType });
    if (filter.tag) where.push({ tags: { some: { tag: filter.tag.trim().toLowerCase() } } });
    if (filter.createdAfter) where.push({ createdAt: { gte: filter.createdAfter } });
    if (filter.createdBefore) where.push({ createdAt: { lt: filter.createdBefore } });
    if (filter.stage && !filter.signal) throw badInput('filter.stage needs filter.signal (a post is EARLY or MATURE for a signal)', { argument: 'filter' });
    if (filter.signal) {
      where.push({ mediaType: { in: filter.signal.mediaTypes } });
      if (filter.stage) {
        const stage = stageWhere(filter.stage, filter.signal.key, await thresholdsOf(this.prisma, filter.signal.key));
        if (!stage) return toPage([], first, () => []);
        where.push(stage);
      }
    }
    if (after) {
      const [ms, id] = decodeCursor(after, ['number', 'string']) as [number, string];
      const at = new Date(ms);
      where.push({ OR: [{ createdAt: { lt: at } }, { createdAt: at, externalId: { lt: id } }] });
    }
    const rows = await this.prisma.post.findMany({
      where: { AND: where },
      orderBy: [{ createdAt: 'desc' }, { externalId: 'desc' }],
      take: first + 1,
      include: withTags,
    });
    return toPage(rows.map(toPostRecord), first, (p) => [p.createdAt.getTime(), p.id]);
  }
}
