/**
 * The HYBRID_MF item feature matrix: per item i, a sparse part (one-hot tags, the id indicator) and a dense part x_i
 * (the content modalities). Equations: docs/hybrid-mf.md, "Item features".
 *
 *   tag t of item i     value 1/sqrt(n_i) (n_i = the item's tag count), so the tag block has norm 1 like the id
 *   id of item i        value 1, only for items in `warm` (training items); a cold item has none
 *   dense block of m    z_ij = (raw_ij - mean_j) / sd_j over the training items that have modality m; projected on the
 *                       top `denseDims` principal directions when wider; scaled by denseNorm / RMS_train ||block||, so
 *                       every modality is about as long as one one-hot and none dominates by sheer width
 *   missing modality    an all-zero raw row (the dataset convention) stays all zero: it contributes nothing, rather
 *                       than a made-up "-mean/sd" vector
 */
import { featurePresence, featureRow } from '../../datasets/features.js';
import { MODALITIES, type Dataset, type Modality } from '../../datasets/types.js';
import { Rng } from '../../lib/random.js';
import { principalDirections } from './pca.js';

/** Rows used to fit the principal directions (a uniform sample of the training items beyond this). */
const PCA_SAMPLE_ROWS = 4096;

export interface DenseBlock {
  modality: Modality;
  /** Raw width of the modality. */
  columns: number;
  /** Columns with a non-zero spread over the training items (constant columns carry nothing). */
  used: number;
  /** Width in x_i: principal components kept, or `used` when not projected. */
  dims: number;
  projected: boolean;
  /** Share of the z-scored variance the kept components explain (1 when not projected). */
  explained: number;
  /** Offset of this block in x_i. */
  offset: number;
}

export interface DenseFeatures {
  /** Width D of x_i. */
  dim: number;
  /** items x dim, row i = x_i. */
  data: Float32Array;
  blocks: DenseBlock[];
}

export interface SparseFeatures {
  /** Sparse features of item i: ids[offsets[i] .. offsets[i+1]] with their values; ids in [0, count). */
  offsets: Int32Array;
  ids: Int32Array;
  values: Float32Array;
  /** Feature count: tags (0..tagCount-1) then one id feature per warm item. */
  count: number;
  tagCount: number;
  /** The id feature of each item, or -1 (cold or idFeature off). */
  idOf: Int32Array;
}

export interface ItemFeatures {
  items: number;
  sparse: SparseFeatures;
  dense: DenseFeatures;
}

export interface DenseOptions {
  modalities: readonly Modality[] | null;
  denseDims: number | null;
  denseNorm: number;
  seed: number;
}

/** x_i for every item, with column statistics, projections and scales fitted on the items flagged in `fitOn`. */
export function denseFeatures(ds: Dataset, fitOn: Uint8Array, o: DenseOptions): DenseFeatures {
  const n = ds.items.ids.length;
  const wanted = o.modalities ?? MODALITIES;
  const parts: { block: DenseBlock; rows: Float32Array }[] = [];
  let offset = 0;
  for (const modality of wanted) {
    const m = ds.features[modality];
    if (!m) {
      if (o.modalities) throw new RangeError(`HYBRID_MF: dataset ${ds.name} has no "${modality}" features (has ${Object.keys(ds.features).join(', ') || 'none'})`);
      continue;
    }
    if (m.rows !== n) throw new RangeError(`HYBRID_MF: "${modality}" features have ${m.rows} rows for ${n} items`);
    const part = modalityBlock(m, modality, fitOn, o);
    if (!part) continue;
    part.block.offset = offset;
    offset += part.block.dims;
    parts.push(part);
  }
  const data = new Float32Array(n * offset);
  for (const { block, rows } of parts) {
    for (let i = 0; i < n; i++) data.set(rows.subarray(i * block.dims, (i + 1) * block.dims), i * offset + block.offset);
  }
  return { dim: offset, data, blocks: parts.map((p) => p.block) };
}

/** One modality's transformed rows (items x dims), or null when no fitting item has it. */
function modalityBlock(m: Dataset['features'][Modality] & object, modality: Modality, fitOn: Uint8Array, o: DenseOptions): { block: DenseBlock; rows: Float32Array } | null {
  const present = featurePresence(m);
  const C = m.dim;
  const fit: number[] = [];
  for (let i = 0; i < m.rows; i++) if (fitOn[i] && present[i]) fit.push(i);
  if (fit.length === 0) return null;
  const raw = new Float32Array(C);
  const mean = new Float64Array(C);
  const sq = new Float64Array(C);
  for (const i of fit) {
    featureRow(m, i, raw);
    for (let j = 0; j < C; j++) {
      mean[j] += raw[j];
      sq[j] += raw[j] * raw[j];
    }
  }
  const cols: number[] = [];
  const inv = new Float64Array(C);
  for (let j = 0; j < C; j++) {
    mean[j] /= fit.length;
    const sd = Math.sqrt(Math.max(0, sq[j] / fit.length - mean[j] * mean[j]));
    if (sd > 1e-6 * (Math.abs(mean[j]) + 1e-6)) {
      inv[j] = 1 / sd;
      cols.push(j);
    }
  }
  const U = cols.length;
  if (U === 0) return null;
  const zRow = (i: number, out: Float32Array) => {
    featureRow(m, i, raw);
    for (let a = 0; a < U; a++) out[a] = (raw[cols[a]] - mean[cols[a]]) * inv[cols[a]];
  };
  const project = o.denseDims !== null && U > o.denseDims;
  const dims = project ? o.denseDims! : U;
  let directions: Float64Array | null = null;
  let explained = 1;
  if (project) {
    const rng = new Rng(o.seed ^ 0x9ca1);
    const sample = Int32Array.from(fit);
    if (sample.length > PCA_SAMPLE_ROWS) rng.shuffle(sample);
    const rows = Math.min(sample.length, PCA_SAMPLE_ROWS);
    const z = new Float32Array(rows * U);
    const buf = new Float32Array(U);
    for (let r = 0; r < rows; r++) {
      zRow(sample[r], buf);
      z.set(buf, r * U);
    }
    // The sample is only approximately centred (the means come from all fitting items); close enough for directions.
    const pd = principalDirections(z, rows, U, dims, o.seed);
    directions = pd.vectors;
    explained = pd.variances.reduce((a, b) => a + b, 0) / U; // z-scored columns: total variance = U
  }
  const out = new Float32Array(m.rows * dims);
  const z = new Float32Array(U);
  for (let i = 0; i < m.rows; i++) {
    if (!present[i]) continue;
    zRow(i, z);
    const base = i * dims;
    if (directions) {
      for (let c = 0; c < dims; c++) {
        let s = 0;
        for (let a = 0; a < U; a++) s += directions[c * U + a] * z[a];
        out[base + c] = s;
      }
    } else out.set(z, base);
  }
  let ms = 0;
  for (const i of fit) for (let c = 0; c < dims; c++) ms += out[i * dims + c] ** 2;
  const rms = Math.sqrt(ms / fit.length);
  const scale = rms > 0 ? o.denseNorm / rms : 0;
  for (let k = 0; k < out.length; k++) out[k] *= scale;
  return { block: { modality, columns: C, used: U, dims, projected: project, explained, offset: 0 }, rows: out };
}

/** Tags (when `tags`) and id indicators (when `idFeature`, for the items flagged in `warm`). */
export function sparseFeatures(ds: Dataset, warm: Uint8Array, o: { tags: boolean; idFeature: boolean }): SparseFeatures {
  const n = ds.items.ids.length;
  const T = o.tags ? ds.items.tagNames.length : 0;
  const idOf = new Int32Array(n).fill(-1);
  let count = T;
  if (o.idFeature) for (let i = 0; i < n; i++) if (warm[i]) idOf[i] = count++;
  const offsets = new Int32Array(n + 1);
  const tagOffsets = ds.items.tagOffsets;
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (T > 0 ? tagOffsets[i + 1] - tagOffsets[i] : 0) + (idOf[i] >= 0 ? 1 : 0);
  const ids = new Int32Array(offsets[n]);
  const values = new Float32Array(offsets[n]);
  for (let i = 0; i < n; i++) {
    let k = offsets[i];
    if (T > 0) {
      const nt = tagOffsets[i + 1] - tagOffsets[i];
      for (let a = tagOffsets[i]; a < tagOffsets[i + 1]; a++) {
        ids[k] = ds.items.tagIds[a];
        values[k++] = 1 / Math.sqrt(nt);
      }
    }
    if (idOf[i] >= 0) {
      ids[k] = idOf[i];
      values[k++] = 1;
    }
  }
  return { offsets, ids, values, count, tagCount: T, idOf };
}
