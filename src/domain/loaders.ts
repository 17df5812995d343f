/**
 * Per-request batching (DataLoader): fields resolved once per post (maturity, embedding, baselines) ask these loaders,
 * so a page of 100 posts costs a constant handful of SQL queries instead of hundreds. Created per request so nothing
 * stale survives between requests; the process-wide BaselineCache sits behind `averages`.
 */
import DataLoader from 'dataloader';
import type { Prisma } from '../data/db.js';
import { badInput } from '../errors.js';
import type { BaselineCache } from './embeddings/baselines.js';
import type { StatRow } from './maturity/maturity.js';
import { toSignalRecord } from './signals/signals.service.js';
import type { EmbeddingSource, MediaType, SignalRecord } from './types.js';

export interface StoredEmbedding {
  vector: Uint8Array;
  dim: number;
  views: number;
  updatedAt: Date;
  modelVersion: string | null;
}

const pairKey = (a: number, b: number) => `${a}:${b}`;

export class RequestLoaders {
  private signalMap?: Promise<Map<string, SignalRecord>>;
  private thresholdMap?: Promise<Map<string, number>>;

  constructor(
    private readonly prisma: Prisma,
    private readonly baselineCache: BaselineCache,
  ) {}

  signals(): Promise<Map<string, SignalRecord>> {
    this.signalMap ??= this.prisma.signal.findMany({ orderBy: { id: 'asc' } }).then((rows) => new Map(rows.map((r) => [r.name, toSignalRecord(r)])));
    return this.signalMap;
  }

  /** The named signal, or BAD_USER_INPUT listing the known ones. */
  async signal(name: string): Promise<SignalRecord> {
    const signals = await this.signals();
    const s = signals.get(name);
    if (!s) throw badInput(`unknown signal ${JSON.stringify(name)} (known: ${[...signals.keys()].join(', ')})`, { argument: 'signal' });
    return s;
  }

  async threshold(signalKey: number, mediaType: MediaType): Promise<number | null> {
    this.thresholdMap ??= this.prisma.maturityThreshold
      .findMany({ select: { signalId: true, mediaType: true, threshold: true } })
      .then((rows) => new Map(rows.map((r) => [`${r.signalId}:${r.mediaType}`, r.threshold])));
    return (await this.thresholdMap).get(`${signalKey}:${mediaType}`) ?? null;
  }

  readonly stats = new DataLoader<string, StatRow | null>(async (keys) => {
    const pairs = keys.map((k) => k.split(':').map(Number));
    const rows = await this.prisma.postSignalStat.findMany({
      where: { postId: { in: [...new Set(pairs.map((p) => p[0]))] }, signalId: { in: [...new Set(pairs.map((p) => p[1]))] } },
    });
    const byKey = new Map(rows.map((r) => [pairKey(r.postId, r.signalId), r]));
    return keys.map((k) => byKey.get(k) ?? null);
  });

  stat(postKey: number, signalKey: number): Promise<StatRow | null> {
    return this.stats.load(pairKey(postKey, signalKey));
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
    const byKey = new Map(rows.map((r) => [`${r.postId}:${r.signalId}:${r.source}`, { ...r, modelVersion: r.modelVersion?.version ?? null }]));
    return keys.map((k) => byKey.get(k) ?? null);
  });

  embedding(postKey: number, signalKey: number, source: EmbeddingSource): Promise<StoredEmbedding | null> {
    return this.embeddings.load(`${postKey}:${signalKey}:${source}`);
  }

  readonly averages = new DataLoader<number, Awaited<ReturnType<BaselineCache['averages']>>>((signalKeys) =>
    Promise.all(signalKeys.map((k) => this.baselineCache.averages(k))),
  );
}
