/**
 * An evaluation-side content feature for datasets without feature files (MovieLens): the signed hashing trick
 * (Weinberger et al. 2009) over a post's title words and tags.
 *
 * Glossary
 *   tokens(p)   lower-cased words of the text (letters and digits, length >= 2) and "tag:<name>" per tag
 *   h(t), s(t)  bucket in [0, dim) and sign +-1 of token t, from FNV-1a 32-bit (bit 31 gives the sign)
 *   x_p         sum over tokens of s(t) e_{h(t)}, L2-normalised; an item without tokens keeps an all-zero row (missing)
 */
import type { Dataset, FeatureMatrix } from '../../datasets/types.js';

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function tokens(text: string, tags: readonly string[]): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? [];
  return [...words, ...tags.map((t) => `tag:${t.toLowerCase()}`)];
}

/** A dim-wide hashed bag of title words and tags per item. */
export function hashedTextFeatures(ds: Dataset, dim: number): FeatureMatrix {
  if (!(Number.isInteger(dim) && dim >= 2)) throw new RangeError(`hashed feature width must be an integer >= 2, got ${dim}`);
  const n = ds.items.ids.length;
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const tags: string[] = [];
    for (let a = ds.items.tagOffsets[i]; a < ds.items.tagOffsets[i + 1]; a++) tags.push(ds.items.tagNames[ds.items.tagIds[a]]);
    const row = data.subarray(i * dim, (i + 1) * dim);
    for (const t of tokens(ds.items.text[i], tags)) {
      const h = fnv1a(t);
      row[h % dim] += h & 0x80000000 ? -1 : 1;
    }
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += row[k] * row[k];
    if (norm > 0) for (let k = 0; k < dim; k++) row[k] /= Math.sqrt(norm);
  }
  return { rows: n, dim, dtype: 'float32', data };
}

/** The dataset with a hashed `text` feature (replacing any text feature file). */
export function withHashedText(ds: Dataset, dim: number): Dataset {
  return { ...ds, features: { ...ds.features, text: hashedTextFeatures(ds, dim) } };
}
