/**
 * MEMER embeddings for posts (paper eq. 12): for every active model of the post's media type, feed the stored content
 * features and freq (log-views normalised as in training) and store the predicted vector as the post's MEMER
 * embedding for that signal. Used on upload (a fresh post: views 0), when views accrue (see `shouldRefresh`), and
 * after a new model is activated.
 */
import type { Db, Tx } from '../../data/db.js';
import type { DirectSqlite } from '../../data/direct-sqlite.js';
import { halvesToFloats } from '../../datasets/float16.js';
import type { Modality as DatasetModality } from '../../datasets/types.js';
import type { Logger } from '../../lib/logger.js';
import { bytesToHalves } from '../../lib/vectors.js';
import { normalisedFreq } from '../../ml/pipeline/memer-model.js';
import type { PostFeatures } from '../../ml/memer/inference.js';
import { modalityNames, type MediaType, type Modality } from '../types.js';
import type { ModelRegistry, Snapshot } from '../models/registry.js';
import { upsertPostEmbeddings, type PostEmbeddingRow } from './store.js';
import { retryTransaction } from '../../data/retry.js';

export interface PostRef {
  key: number;
  mediaType: MediaType;
}

/** A feature vector as stored (PostFeature row). */
export interface StoredFeature {
  modality: Modality;
  dtype: 'FLOAT16' | 'FLOAT32';
  data: Uint8Array;
}

export interface Embedded {
  postKey: number;
  signalKey: number;
  signal: string;
  vector: Float32Array;
  version: string;
}

/**
 * A stored MEMER vector is recomputed when the post's views for the signal have doubled since it was computed (and
 * at the first view): freq moves on a log scale, so this keeps the input current at a logarithmic number of refreshes.
 */
export function shouldRefresh(storedViews: number, views: number): boolean {
  return views > 0 && views >= Math.max(1, 2 * storedViews);
}

export class MemerService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
  ) {}

  /**
   * Computes and stores MEMER vectors for the posts under `snapshot`'s active models. `fresh` gives the stored
   * features of posts just registered (no view yet), which saves reading them back. Without `tx` the vectors are
   * written in a transaction of their own that first checks the snapshot's versions are still the active ones: if an
   * activation swapped them meanwhile, the registry is re-synced and the vectors recomputed with the new models, so
   * no prediction of a retired model lands in the new embedding space.
   */
  async embed(posts: readonly PostRef[], snapshot: Snapshot = this.registry.current(), tx?: Tx, fresh?: Map<number, StoredFeature[]>): Promise<Embedded[]> {
    if (tx) {
      const { rows, out } = await this.predict(posts, snapshot, tx, fresh);
      await upsertPostEmbeddings(tx, this.db.provider, rows);
      return out;
    }
    for (let attempt = 0; ; attempt++) {
      const { rows, out } = await this.predict(posts, snapshot, this.db.prisma, fresh);
      if (rows.length === 0) return out;
      const written = await retryTransaction(() =>
        this.db.prisma.$transaction(async (t) => {
          if (!(await stillActive(t as Tx, rows)) && attempt < 2) return false;
          await upsertPostEmbeddings(t as Tx, this.db.provider, rows);
          return true;
        }),
      );
      if (written) {
        this.logger.debug('memer embeddings stored', { posts: posts.length, vectors: rows.length });
        return out;
      }
      await this.registry.sync();
      snapshot = this.registry.current();
    }
  }

  /** The MEMER vectors `embed` would store, without storing them (reads features and views through `tx`). */
  async predict(posts: readonly PostRef[], snapshot: Snapshot, tx: Tx = this.db.prisma, fresh?: Map<number, StoredFeature[]>): Promise<{ rows: PostEmbeddingRow[]; out: Embedded[] }> {
    const models = [...snapshot.memer.values()];
    const wanted = posts.filter((p) => models.some((m) => m.mediaType === p.mediaType));
    if (wanted.length === 0) return { rows: [], out: [] };
    const keys = wanted.map((p) => p.key);
    const known = fresh && keys.every((k) => fresh.has(k));
    // Sequential, not Promise.all: `tx` may be a PostgreSQL transaction, i.e. one connection.
    const featureRows = known ? keys.flatMap((postId) => fresh.get(postId)!.map((f) => ({ postId, ...f }))) : await tx.postFeature.findMany({ where: { postId: { in: keys } } });
    const stats = known ? [] : await tx.postSignalStat.findMany({ where: { postId: { in: keys } }, select: { postId: true, signalId: true, total: true } });
    const features = new Map<number, PostFeatures['features']>();
    for (const f of featureRows) {
      let m = features.get(f.postId);
      if (!m) features.set(f.postId, (m = {}));
      const name = modalityNames[f.modality] as DatasetModality;
      m[name] = f.dtype === 'FLOAT16' ? halvesToFloats(bytesToHalves(f.data)) : new Float32Array(f.data.buffer.slice(f.data.byteOffset, f.data.byteOffset + f.data.byteLength));
    }
    const views = new Map(stats.map((s) => [`${s.postId}:${s.signalId}`, s.total]));

    // Each model has its own micro-batcher: run them side by side.
    const perModel = await Promise.all(
      models.map(async (model) => {
        const width = new Map(model.embedder.info.modalities.map((s) => [s.modality, s.dim]));
        // Modalities the model was not trained on are left out rather than rejected; a post with none of the model's
        // modalities gets no MEMER vector (content-free, it is better served by its tag or global average). Training
        // infers a modality's width from the data (its last non-zero column), so a stored vector may be longer than
        // the model's input by trailing zeros: cut those off.
        const usable = (p: PostRef) =>
          Object.fromEntries(
            Object.entries(features.get(p.key) ?? {})
              .filter(([m]) => width.has(m as DatasetModality))
              .map(([m, x]) => [m, fitWidth(x!, width.get(m as DatasetModality)!)]),
          );
        const batch = wanted.filter((p) => p.mediaType === model.mediaType && Object.keys(usable(p)).length > 0);
        if (batch.length === 0) return [];
        const inputs: PostFeatures[] = batch.map((p) => ({ features: usable(p), freq: normalisedFreq(views.get(`${p.key}:${model.signalKey}`) ?? 0, model.freqScale) }));
        const vectors = batch.length === 1 ? [await model.embedder.embed(inputs[0])] : splitRows(await model.embedder.embedMany(inputs), batch.length);
        return batch.map((p, i) => ({ model, post: p, vector: vectors[i] }));
      }),
    );
    const rows: PostEmbeddingRow[] = [];
    const out: Embedded[] = [];
    for (const { model, post, vector } of perModel.flat()) {
      rows.push({ postKey: post.key, signalKey: model.signalKey, source: 'MEMER', modelVersionKey: model.versionKey, vector, views: views.get(`${post.key}:${model.signalKey}`) ?? 0 });
      out.push({ postKey: post.key, signalKey: model.signalKey, signal: model.signal, vector, version: model.version });
    }
    return { rows, out };
  }
}

/** Whether the model versions that produced `rows` are all still active (checked inside the writing transaction). */
export async function stillActive(tx: Tx, rows: readonly PostEmbeddingRow[]): Promise<boolean> {
  const versions = [...new Set(rows.map((r) => r.modelVersionKey!))];
  return (await tx.modelVersion.count({ where: { id: { in: versions }, active: true } })) === versions.length;
}

/** stillActive on SQLite's direct connection, inside its (synchronous) transaction. */
export function stillActiveDirect(db: DirectSqlite, rows: readonly PostEmbeddingRow[]): boolean {
  const versions = [...new Set(rows.map((r) => r.modelVersionKey!))];
  const [{ n }] = db.all<{ n: number }>(`SELECT COUNT(*) AS "n" FROM "ModelVersion" WHERE "id" IN (SELECT value FROM json_each(?)) AND "active" = 1`, JSON.stringify(versions));
  return n === versions.length;
}

/** `x` cut to `dim` values when everything past them is zero; otherwise unchanged (the model then reports the shape). */
function fitWidth(x: Float32Array, dim: number): Float32Array {
  if (x.length <= dim) return x;
  for (let j = dim; j < x.length; j++) if (x[j] !== 0) return x;
  return x.subarray(0, dim);
}

function splitRows(flat: Float32Array, n: number): Float32Array[] {
  const d = flat.length / n;
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}
