/**
 * The paper's averages baselines (section 3.1.2), defined once for serving (src/domain/embeddings/baselines.ts) and
 * the offline evaluation (src/ml/evaluation/baselines.ts), so that the TAG_AVG an experiment's control arm serves is
 * the TAG_AVG the evaluation scores:
 *   GLOBAL_AVG  the mean of the reference posts' vectors (the mature ones)
 *   TAG_AVG     per tag, the mean of the vectors of the reference posts with that tag (a tag counted once per post);
 *               a post gets the mean of its known tags' averages, and no TAG_AVG (null) when none of its tags is
 *               known: the caller then falls back to GLOBAL_AVG
 * Tags are keys of any type: the evaluation uses the dataset's tag indices, serving the tag names.
 */

export interface TagAverages<K> {
  dim: number;
  /** null without a reference post */
  global: Float32Array | null;
  byTag: Map<K, Float32Array>;
  posts: number;
}

/** Accumulates reference posts one at a time (sums in float64), then `result()`. */
export class TagAverageBuilder<K> {
  private readonly global: Float64Array;
  private readonly sums = new Map<K, { sum: Float64Array; n: number }>();
  private posts = 0;

  constructor(readonly dim: number) {
    this.global = new Float64Array(dim);
  }

  /** A reference post's vector (read from `offset`) and its tags. */
  add(vector: ArrayLike<number>, tags: Iterable<K>, offset = 0): void {
    const d = this.dim;
    this.posts++;
    for (let j = 0; j < d; j++) this.global[j] += vector[offset + j];
    for (const tag of new Set(tags)) {
      let s = this.sums.get(tag);
      if (!s) this.sums.set(tag, (s = { sum: new Float64Array(d), n: 0 }));
      for (let j = 0; j < d; j++) s.sum[j] += vector[offset + j];
      s.n++;
    }
  }

  result(): TagAverages<K> {
    const mean = (sum: Float64Array, n: number) => Float32Array.from(sum, (x) => x / n);
    return {
      dim: this.dim,
      global: this.posts ? mean(this.global, this.posts) : null,
      byTag: new Map([...this.sums].map(([tag, s]) => [tag, mean(s.sum, s.n)])),
      posts: this.posts,
    };
  }
}

/** TAG_AVG of a post with these tags: the mean of its known tags' averages; null when none is known. */
export function tagAverageOf<K>(averages: Pick<TagAverages<K>, 'dim' | 'byTag'>, tags: Iterable<K>): Float32Array | null {
  const found: Float32Array[] = [];
  for (const t of new Set(tags)) {
    const v = averages.byTag.get(t);
    if (v) found.push(v);
  }
  if (found.length === 0) return null;
  const out = new Float32Array(averages.dim);
  for (const v of found) for (let j = 0; j < out.length; j++) out[j] += v[j] / found.length;
  return out;
}
