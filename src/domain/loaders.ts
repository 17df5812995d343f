/**
 * Per-request batching (DataLoader): fields resolved once per post (maturity, embedding, baselines) ask these loaders,
 * so a page of 100 posts costs a constant handful of SQL queries instead of hundreds. Created per request so nothing
 * stale survives between requests; the process-wide BaselineCache sits behind `averages` and the Catalog behind
 * `signals` and `threshold`.
 *
 * A mutation that has just written posts primes the loaders with what it wrote (`primeRegistered`): a post created in
 * this request has no statistics and no MATURE embedding yet, and its MEMER vectors are the ones just stored, so the
 * fields of a fresh upload (servingSources, embedding, maturity) cost no query.
 */
import DataLoader from 'dataloader';
import type { Prisma } from '../data/db.js';
import { badInput, quote } from '../errors.js';
import { bytesOf } from '../lib/vectors.js';
import type { Catalog } from './catalog.js';
import type { BaselineCache } from './embeddings/baselines.js';
import type { StatRow } from './maturity/maturity.js';
import type { EmbeddingSource, MediaType, SignalRecord } from './types.js';

export interface StoredEmbedding {
  vector: Uint8Array;
  dim: number;
  views: number;
  updatedAt: Date;
  modelVersion: string | null;
}

export interface StoredUserEmbedding {
  vector: Uint8Array;
  dim: number;
  updatedAt: Date;
  modelVersion: string | null;
}

const pairKey = (a: number, b: number) => `${a}:${b}`;

/** What a loader found for each key, in the keys' order (null where nothing was). */
const inOrder = <T>(keys: readonly string[], found: ReadonlyMap<string, T>): (T | null)[] => keys.map((k) => found.get(k) ?? null);

/** The answer for what a post created in this request cannot have yet. */
const NONE: Promise<null> = Promise.resolve(null);

/** What a registration wrote for one post (uploads.service's RegisterResult carries it). */
export interface Registered {
  post: { key: number };
  created: boolean;
  /** The MEMER vectors stored with a created post. */
  memer: readonly { signalKey: number; vector: Float32Array; version: string; updatedAt: Date }[];
}

export class RequestLoaders {
  private signalMap?: Promise<Map<string, SignalRecord>>;
  private thresholdMap?: Promise<Map<string, number>>;
  /**
   * Posts created by this request, with the MEMER vectors stored with them by signal key: they have no statistics and
   * no other stored embedding, so their fields are answered from here without a loader (an upload's servingSources
   * asked ~30 loads of them, the largest allocation of registerPost).
   */
  private readonly created = new Map<number, Map<number, StoredEmbedding>>();

  constructor(
    private readonly prisma: Prisma,
    private readonly baselineCache: BaselineCache,
    private readonly catalog: Catalog,
  ) {}

  /** One snapshot of the catalogue per request, so every field of a response agrees. */
  signals(): Promise<Map<string, SignalRecord>> {
    this.signalMap ??= this.catalog.signals();
    return this.signalMap;
  }

  /** Records what a registration in this request wrote (see the header). */
  primeRegistered(results: readonly Registered[]): void {
    for (const r of results) {
      if (!r.created) continue;
      const memer = new Map<number, StoredEmbedding>();
      for (const m of r.memer) memer.set(m.signalKey, { vector: bytesOf(m.vector), dim: m.vector.length, views: 0, updatedAt: m.updatedAt, modelVersion: m.version });
      this.created.set(r.post.key, memer);
    }
  }

  /** The named signal, or BAD_USER_INPUT listing the known ones. */
  async signal(name: string): Promise<SignalRecord> {
    const signals = await this.signals();
    const s = signals.get(name);
    if (!s) throw badInput(`unknown signal ${quote(name)} (known: ${[...signals.keys()].join(', ')})`, { argument: 'signal' });
    return s;
  }

  async threshold(signalKey: number, mediaType: MediaType): Promise<number | null> {
    this.thresholdMap ??= this.catalog.thresholds();
    return (await this.thresholdMap).get(`${signalKey}:${mediaType}`) ?? null;
  }

  private readonly stats = new DataLoader<string, StatRow | null>(async (keys) => {
    const pairs = keys.map((k) => k.split(':').map(Number));
    const rows = await this.prisma.postSignalStat.findMany({
      where: { postId: { in: [...new Set(pairs.map((p) => p[0]))] }, signalId: { in: [...new Set(pairs.map((p) => p[1]))] } },
    });
    return inOrder(keys, new Map(rows.map((r) => [pairKey(r.postId, r.signalId), r])));
  });

  stat(postKey: number, signalKey: number): Promise<StatRow | null> {
    return this.created.has(postKey) ? NONE : this.stats.load(pairKey(postKey, signalKey));
  }

  private readonly embeddings = new DataLoader<string, StoredEmbedding | null>(async (keys) => {
    const parts = keys.map((k) => k.split(':'));
    const rows = await this.prisma.postEmbedding.findMany({
      where: {
        postId: { in: [...new Set(parts.map((p) => Number(p[0])))] },
        signalId: { in: [...new Set(parts.map((p) => Number(p[1])))] },
        source: { in: [...new Set(parts.map((p) => p[2] as EmbeddingSource))] },
      },
      select: { postId: true, signalId: true, source: true, vector: true, dim: true, views: true, updatedAt: true, modelVersion: { select: { version: true } } },
    });
    return inOrder(keys, new Map(rows.map((r) => [`${r.postId}:${r.signalId}:${r.source}`, { ...r, modelVersion: r.modelVersion?.version ?? null }])));
  });

  /** Whether the post was created in this request with a MEMER vector for the signal (answered without a promise). */
  createdMemer(postKey: number, signalKey: number): boolean {
    return this.created.get(postKey)?.has(signalKey) ?? false;
  }

  embedding(postKey: number, signalKey: number, source: EmbeddingSource): Promise<StoredEmbedding | null> {
    const created = this.created.get(postKey);
    if (created) return source === 'MEMER' && created.has(signalKey) ? Promise.resolve(created.get(signalKey)!) : NONE;
    return this.embeddings.load(`${postKey}:${signalKey}:${source}`);
  }

  private readonly userVectors = new DataLoader<string, StoredUserEmbedding | null>(async (keys) => {
    const pairs = keys.map((k) => k.split(':').map(Number));
    const rows = await this.prisma.userEmbedding.findMany({
      where: { userId: { in: [...new Set(pairs.map((p) => p[0]))] }, signalId: { in: [...new Set(pairs.map((p) => p[1]))] } },
      select: { userId: true, signalId: true, vector: true, dim: true, updatedAt: true, modelVersion: { select: { version: true } } },
    });
    return inOrder(keys, new Map(rows.map((r) => [pairKey(r.userId, r.signalId), { vector: r.vector, dim: r.dim, updatedAt: r.updatedAt, modelVersion: r.modelVersion?.version ?? null }])));
  });

  /** The user's served embedding for the signal (the one recommendations rank with); null where none is stored. */
  userEmbedding(userKey: number, signalKey: number): Promise<StoredUserEmbedding | null> {
    return this.userVectors.load(pairKey(userKey, signalKey));
  }

  readonly averages = new DataLoader<number, Awaited<ReturnType<BaselineCache['averages']>>>((signalKeys) =>
    Promise.all(signalKeys.map((k) => this.baselineCache.averages(k))),
  );
}
