/**
 * Content features per media type: which modalities a media type has and how many columns it uses, row gathers for
 * MEMER training, and single-post feature vectors for inference.
 *
 * A feature file holds one row per item, zero-padded on the right to the widest media type (visual: video 2048-d in
 * columns 0..2047 of a 2208-wide file), and an all-zero row marks a missing modality (docs/datasets.md). The used
 * width of a modality for a media type is therefore read from the data: 1 + the last column that is non-zero in some
 * row of that media type. A modality with no non-zero row for a media type (audio for images) is absent for it.
 */
import { featurePresence, featureRow } from '../../datasets/features.js';
import type { Dataset, FeatureMatrix, MediaType, Modality } from '../../datasets/types.js';
import { MEDIA_TYPES, MODALITIES } from '../../datasets/types.js';
import type { ModalitySpec } from '../memer/config.js';

/** The modalities (fusion order visual, audio, text, aux) present for `mediaType`, with their used widths. */
export function featureLayout(ds: Dataset, mediaType: MediaType, allowed: readonly Modality[] | null = null): ModalitySpec[] {
  const media = MEDIA_TYPES.indexOf(mediaType);
  const out: ModalitySpec[] = [];
  for (const modality of MODALITIES) {
    const m = ds.features[modality];
    if (!m || (allowed && !allowed.includes(modality))) continue;
    let used = 0;
    const half = m.data instanceof Uint16Array;
    for (let i = 0; i < m.rows; i++) {
      if (ds.items.mediaType[i] !== media) continue;
      const base = i * m.dim;
      for (let k = m.dim - 1; k >= used; k--) {
        const v = m.data[base + k];
        if (half ? (v & 0x7fff) !== 0 : v !== 0) {
          used = k + 1;
          break;
        }
      }
      if (used === m.dim) break;
    }
    if (used > 0) out.push({ modality, dim: used });
  }
  return out;
}

/** Rows `items` of `m`, columns 0..dim-1, in the same dtype (float16 stays raw halves). */
export function gatherFeatures(m: FeatureMatrix, items: Int32Array, dim: number): FeatureMatrix {
  if (dim > m.dim) throw new RangeError(`cannot take ${dim} columns of a ${m.dim}-wide feature matrix`);
  const data = m.data instanceof Uint16Array ? new Uint16Array(items.length * dim) : new Float32Array(items.length * dim);
  for (let k = 0; k < items.length; k++) {
    const base = items[k] * m.dim;
    data.set(m.data.subarray(base, base + dim), k * dim);
  }
  return { rows: items.length, dim, dtype: m.dtype, data };
}

/** Feature matrices and presence masks of `items` for the given modalities (row k = items[k]). */
export function gatherItemFeatures(ds: Dataset, items: Int32Array, specs: readonly ModalitySpec[]): {
  features: Partial<Record<Modality, FeatureMatrix>>;
  presence: Partial<Record<Modality, Uint8Array>>;
} {
  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  const presence: Partial<Record<Modality, Uint8Array>> = {};
  for (const spec of specs) {
    const m = ds.features[spec.modality];
    if (!m) throw new RangeError(`the dataset has no ${spec.modality} features`);
    const g = gatherFeatures(m, items, spec.dim);
    features[spec.modality] = g;
    presence[spec.modality] = featurePresence(g);
  }
  return { features, presence };
}

/** One post's raw features for inference: a float32 vector per modality it has (missing rows are left out). */
export function postFeatureVectors(ds: Dataset, item: number, specs: readonly ModalitySpec[]): Partial<Record<Modality, Float32Array>> {
  const out: Partial<Record<Modality, Float32Array>> = {};
  for (const spec of specs) {
    const m = ds.features[spec.modality];
    if (!m) continue;
    const row = featureRow(m, item).subarray(0, spec.dim);
    let any = false;
    for (let k = 0; k < row.length && !any; k++) any = row[k] !== 0;
    if (any) out[spec.modality] = row;
  }
  return out;
}

/** A post's tag names (what a model with a tag-average prior reads, PostFeatures.tags). */
export function postTagNames(ds: Dataset, item: number): string[] {
  const { tagOffsets, tagIds, tagNames } = ds.items;
  return Array.from(tagIds.subarray(tagOffsets[item], tagOffsets[item + 1]), (t) => tagNames[t]);
}
