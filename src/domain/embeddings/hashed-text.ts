/**
 * The serving side of `memer train --hash-text D`: a MEMER model trained on the hashed text feature (the signed
 * hashing trick over a post's title words and tags, src/ml/evaluation/hashed-features.ts) reads, at serving time, the
 * same feature computed from the same post's stored text and tags, by the same function: on upload, when views
 * accrue and on activation alike. The feature is derived, never stored, so it cannot drift from the text and tags.
 */
import type { Dataset } from '../../datasets/types.js';
import { hashedTextFeatures } from '../../ml/evaluation/hashed-features.js';

/** What the hashed text feature is computed from. */
export interface PostContent {
  text: string;
  tags: readonly string[];
}

/**
 * The D-wide hashed text feature of each post, exactly as training computed it for the exported dataset; null for a
 * post without a token (training's all-zero row: the modality is missing).
 */
export function hashedTextRows(posts: readonly PostContent[], dim: number): (Float32Array | null)[] {
  if (posts.length === 0) return [];
  // hashedTextFeatures reads a dataset's items (text and tags); the posts as a dataset of their own.
  const tagNames: string[] = [];
  const tagOffsets = new Int32Array(posts.length + 1);
  posts.forEach((p, i) => {
    tagNames.push(...p.tags);
    tagOffsets[i + 1] = tagNames.length;
  });
  const ds = {
    name: 'posts',
    items: { ids: posts.map((_, i) => String(i)), createdAt: new Float64Array(posts.length), mediaType: new Uint8Array(posts.length), tagNames, tagOffsets, tagIds: Int32Array.from(tagNames.keys()), text: posts.map((p) => p.text) },
    userIds: [],
    signals: [],
    interactions: { length: 0, user: new Int32Array(0), item: new Int32Array(0), signal: new Uint8Array(0), label: new Uint8Array(0), time: new Float64Array(0) },
    features: {},
  } satisfies Dataset;
  const m = hashedTextFeatures(ds, dim);
  const data = m.data as Float32Array;
  return posts.map((_, i) => {
    const row = data.subarray(i * dim, (i + 1) * dim);
    return row.some((x) => x !== 0) ? row : null;
  });
}
