/**
 * The ranking of one experiment arm whose source is a baseline (TAG_AVG, GLOBAL_AVG, RANDOM): a second VectorStore per
 * signal beside the AUTO index, holding only the early-stage posts this source ranks differently from AUTO (with
 * TAG_AVG: the posts AUTO serves by their MEMER vector). A search of the arm takes the best of the AUTO index without
 * those posts and of this store, so it is exact wherever the AUTO index is, at the cost of a second, smaller search.
 * MATURE posts are ranked by their mature embedding in every arm; MEMER arms rank as AUTO does and need no variant.
 *
 * VectorStore has no delete: a post that stops differing (a rebuild does that, since MATURE vectors only change by
 * activation) keeps its row flagged SAME; one the source cannot rank (no average exists yet) is flagged EXCLUDED.
 */
import { VectorStore, type VectorStoreOptions } from '../../ml/retrieval/vector-store.js';
import type { EmbeddingSource, MediaType } from '../types.js';
import { packMeta } from './index-meta.js';

export type VariantSource = Extract<EmbeddingSource, 'TAG_AVG' | 'GLOBAL_AVG' | 'RANDOM'>;
export const needsVariant = (source: EmbeddingSource | null | undefined): source is VariantSource => source === 'TAG_AVG' || source === 'GLOBAL_AVG' || source === 'RANDOM';

/** Metadata flags above packMeta's four bits. */
const SAME = 0x10;
const EXCLUDED = 0x20;

/** How the arm serves a post: its own vector, as AUTO does, or not at all. */
export type ArmServing = { source: EmbeddingSource; vector: Float32Array } | 'same' | 'excluded';

export interface PostServing {
  /** The AUTO source of the post (what the main index holds). */
  auto: EmbeddingSource;
  tagAvg: Float32Array | null;
  global: Float32Array | null;
  /** The post's RANDOM vector (computed only when asked). */
  random: () => Float32Array;
}

/** The arm's vector for a post, by the source's fallbacks: TAG_AVG, else GLOBAL_AVG; GLOBAL_AVG; RANDOM. */
export function armServing(arm: VariantSource, p: PostServing): ArmServing {
  if (p.auto === 'MATURE') return 'same';
  switch (arm) {
    case 'TAG_AVG':
      // AUTO serves TAG_AVG and GLOBAL_AVG posts with exactly this rule already.
      if (p.auto !== 'MEMER') return 'same';
      if (p.tagAvg) return { source: 'TAG_AVG', vector: p.tagAvg };
      return p.global ? { source: 'GLOBAL_AVG', vector: p.global } : 'excluded';
    case 'GLOBAL_AVG':
      if (p.auto === 'GLOBAL_AVG') return 'same';
      return p.global ? { source: 'GLOBAL_AVG', vector: p.global } : 'excluded';
    case 'RANDOM':
      return { source: 'RANDOM', vector: p.random() };
  }
}

export class ArmVariant {
  readonly store: VectorStore;
  /** By post key: 1 when this variant ranks the post (or excludes it) instead of the AUTO index. */
  private overridden = new Uint8Array(1024);
  /** Resolves once the variant holds every post of the index (its build). */
  ready: Promise<void> = Promise.resolve();

  constructor(
    readonly source: VariantSource,
    options: Partial<VectorStoreOptions> & { dim: number },
  ) {
    this.store = new VectorStore(options);
  }

  /** Whether the AUTO index's row for this post is replaced by this variant (for the AUTO search's filter). */
  overrides(postKey: number): boolean {
    return postKey < this.overridden.length && this.overridden[postKey] === 1;
  }

  /** Whether a row of this store ranks (its metadata says neither SAME nor EXCLUDED). */
  static ranks(meta: number): boolean {
    return (meta & (SAME | EXCLUDED)) === 0;
  }

  set(postKey: number, mediaType: MediaType, serving: ArmServing): void {
    if (serving === 'same') {
      if (!this.overrides(postKey)) return;
      this.store.upsert(postKey, this.store.vector(postKey)!, SAME);
      this.mark(postKey, 0);
      return;
    }
    if (serving === 'excluded') this.store.upsert(postKey, this.store.vector(postKey) ?? new Float32Array(this.store.dim), EXCLUDED);
    else this.store.upsert(postKey, serving.vector, packMeta(mediaType, serving.source));
    this.mark(postKey, 1);
  }

  /** Many posts at once (a build or a refresh): one bulk insert for the ranked rows. */
  setMany(rows: readonly { postKey: number; mediaType: MediaType; serving: ArmServing }[]): void {
    const ranked = rows.filter((r) => typeof r.serving === 'object') as { postKey: number; mediaType: MediaType; serving: { source: EmbeddingSource; vector: Float32Array } }[];
    const dim = this.store.dim;
    const vectors = new Float32Array(ranked.length * dim);
    ranked.forEach((r, i) => vectors.set(r.serving.vector, i * dim));
    if (ranked.length) {
      this.store.upsertMany(ranked.map((r) => r.postKey), vectors, ranked.map((r) => packMeta(r.mediaType, r.serving.source)));
      for (const r of ranked) this.mark(r.postKey, 1);
    }
    for (const r of rows) if (typeof r.serving !== 'object') this.set(r.postKey, r.mediaType, r.serving);
  }

  async dispose(): Promise<void> {
    await this.store.dispose();
  }

  private mark(postKey: number, value: 0 | 1): void {
    if (postKey >= this.overridden.length) {
      const grown = new Uint8Array(Math.max(postKey + 1, this.overridden.length * 2));
      grown.set(this.overridden);
      this.overridden = grown;
    }
    this.overridden[postKey] = value;
  }
}
