/**
 * Views of a Dataset restricted to some interactions, and per-post view counts. Items, users, tags and features are
 * shared (not copied), so item and user indices mean the same in the view; only the interaction columns are gathered.
 * The FFM and maturity code train on "every interaction of the dataset", so a view is how the pipeline and the
 * evaluation hand them one part of the log (the training part, the part without held-out rows).
 */
import type { Dataset, InteractionTable, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';

/** The dataset with only the interactions at `indices` (in that order). */
export function withInteractions(ds: Dataset, indices: Int32Array): Dataset {
  const t = ds.interactions;
  const n = indices.length;
  const out: InteractionTable = {
    length: n,
    user: new Int32Array(n),
    item: new Int32Array(n),
    signal: new Uint8Array(n),
    label: new Uint8Array(n),
    time: new Float64Array(n),
  };
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    out.user[k] = t.user[i];
    out.item[k] = t.item[i];
    out.signal[k] = t.signal[i];
    out.label[k] = t.label[i];
    out.time[k] = t.time[i];
  }
  return { ...ds, interactions: out };
}

/** Indices of the interactions whose item passes `keep` (1 byte per item). */
export function interactionsOfItems(ds: Dataset, keep: Uint8Array): Int32Array {
  const t = ds.interactions;
  const out = new Int32Array(t.length);
  let n = 0;
  for (let i = 0; i < t.length; i++) if (keep[t.item[i]]) out[n++] = i;
  return out.slice(0, n);
}

/** A mask over items: media type `mediaType` (or all) and, when given, also set in `within`. */
export function itemMask(ds: Dataset, mediaType: MediaType | null, within: Uint8Array | null = null): Uint8Array {
  const media = mediaType === null ? -1 : MEDIA_TYPES.indexOf(mediaType);
  const out = new Uint8Array(ds.items.ids.length);
  for (let i = 0; i < out.length; i++) out[i] = (media < 0 || ds.items.mediaType[i] === media) && (within === null || within[i] !== 0) ? 1 : 0;
  return out;
}

/**
 * Views per item for one signal: its logged interactions of that signal (label 1 or an explicit 0), the unit of the
 * maturity replay (src/ml/maturity/replay.ts).
 */
export function viewCounts(ds: Dataset, signal: number): Int32Array {
  const t = ds.interactions;
  const out = new Int32Array(ds.items.ids.length);
  for (let i = 0; i < t.length; i++) if (t.signal[i] === signal) out[t.item[i]]++;
  return out;
}

/** The q-quantile (0..1) of `values` at the items in `mask` (nearest rank); 0 when the mask is empty. */
export function quantileOf(values: Int32Array, mask: Uint8Array, q: number): number {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) if (mask[i]) xs.push(values[i]);
  if (xs.length === 0) return 0;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
}

/** The largest view count v such that at least `want` items of the mask have >= v views (0 when there are fewer). */
export function viewsKeeping(values: Int32Array, mask: Uint8Array, want: number): number {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) if (mask[i]) xs.push(values[i]);
  if (xs.length < want || want <= 0) return 0;
  xs.sort((a, b) => b - a);
  return xs[want - 1];
}
