/**
 * MEMER training data in columnar typed arrays (no object per sample), the item-level validation split, and the
 * batch assembler that gathers sample rows into reusable float32 buffers for one training or evaluation run.
 *
 * Glossary
 *   item i       a mature ("old") post: features per modality, presence per modality, mature embedding v_i, freq_i
 *   sample k     an interaction (user u_k, item i_k, label y_k), the unit of a mini-batch
 *   presence     1 if item i has modality m; a missing modality's feature row is ignored and fed as zeros
 */
import type { FeatureMatrix, Modality } from '../../datasets/types.js';
import { Rng } from '../graph/rng.js';
import { readRow } from './features.js';
import type { FreqMode, ModalitySpec } from './config.js';
import { INPUT, type StatsByModality } from './model.js';
import { writeTagWeights, type ItemTags, type LinearPrior } from './prior.js';
import type { Feed } from '../onnx/session.js';

export interface MemerItems {
  count: number;
  /** one matrix per modality, row i = item i */
  features: Partial<Record<Modality, FeatureMatrix>>;
  /** per modality, 1 byte per item (0 = missing); a modality without an array is present for every item */
  presence?: Partial<Record<Modality, Uint8Array>>;
  /** mature backbone embeddings v_i, count x d */
  embeddings: Float32Array;
  /** normalised interaction count per item (the decoder's freq input) */
  freq: Float32Array;
  /** the items' tags (a tag-average prior reads them; optional otherwise) */
  tags?: ItemTags;
  /**
   * per item, 1 when `embeddings` holds a mature target, 0 for an early post (its row is not a target: L_w and L_recon
   * skip its samples, L_rec still learns from them); absent = every item is mature (the paper's setting)
   */
  targetWeight?: Float32Array;
}

export interface MemerSamples {
  length: number;
  item: Int32Array;
  user: Int32Array;
  /** 1 positive, 0 negative */
  label: Uint8Array;
}

export interface MemerTrainingData {
  items: MemerItems;
  /** user embeddings v_u, users x d */
  userEmbeddings: Float32Array;
  samples: MemerSamples;
  /**
   * For architecture.prior 'linear': fits the content map on the given items (indices into `items`): the trainer calls
   * it with its training items (epoch 0 and training) and, with priorRefit, with every item for the export.
   */
  fitLinearPrior?: (items: Int32Array) => LinearPrior;
}

export function checkData(data: MemerTrainingData, modalities: readonly ModalitySpec[], d: number): void {
  const { items, samples } = data;
  for (const spec of modalities) {
    const m = items.features[spec.modality];
    if (!m) throw new Error(`training data has no ${spec.modality} features`);
    if (m.dim !== spec.dim || m.rows !== items.count) throw new Error(`${spec.modality}: ${m.rows} x ${m.dim}, expected ${items.count} x ${spec.dim}`);
    const p = items.presence?.[spec.modality];
    if (p && p.length !== items.count) throw new Error(`${spec.modality} presence has ${p.length} entries for ${items.count} items`);
  }
  if (items.embeddings.length !== items.count * d) throw new Error(`item embeddings: ${items.embeddings.length} values for ${items.count} x ${d}`);
  if (items.freq.length !== items.count) throw new Error(`freq: ${items.freq.length} values for ${items.count} items`);
  if (items.targetWeight && items.targetWeight.length !== items.count) throw new Error(`targetWeight: ${items.targetWeight.length} values for ${items.count} items`);
  if (data.userEmbeddings.length % d !== 0) throw new Error(`user embeddings length ${data.userEmbeddings.length} is not a multiple of ${d}`);
  const users = data.userEmbeddings.length / d;
  for (let k = 0; k < samples.length; k++) {
    const i = samples.item[k];
    const u = samples.user[k];
    if (!(i >= 0 && i < items.count) || !(u >= 0 && u < users)) throw new Error(`sample ${k}: item ${i} / user ${u} out of range`);
  }
}

/** Split items at random into validation (fraction) and training; samples follow their item. */
export function splitByItem(data: MemerTrainingData, fraction: number, seed: number): { trainItems: Int32Array; train: Int32Array; validation: Int32Array } {
  const rng = new Rng(seed ^ 0x5eed);
  const isVal = new Uint8Array(data.items.count);
  const order = rng.shuffle(Int32Array.from({ length: data.items.count }, (_, i) => i));
  const nVal = fraction > 0 ? Math.max(1, Math.round(fraction * data.items.count)) : 0;
  for (let k = 0; k < nVal; k++) isVal[order[k]] = 1;
  const trainItems = order.slice(nVal).sort();
  let nv = 0;
  for (let k = 0; k < data.samples.length; k++) nv += isVal[data.samples.item[k]];
  const train = new Int32Array(data.samples.length - nv);
  const validation = new Int32Array(nv);
  let a = 0;
  let b = 0;
  for (let k = 0; k < data.samples.length; k++) {
    if (isVal[data.samples.item[k]]) validation[b++] = k;
    else train[a++] = k;
  }
  return { trainItems, train, validation };
}

/** Optional inputs and training-time perturbations of the batch assembler (all off by default). */
export interface AssemblerOptions {
  /** a tag-average prior's `tags` input: T vocabulary columns and each item's columns (CSR, prior.ts itemTagColumns) */
  readonly tagColumns?: { readonly T: number; readonly offsets: Int32Array; readonly columns: Int32Array };
  /** freq in training batches (TrainingConfig.freq); a fill without rng always feeds the observed freq */
  readonly freq?: FreqMode;
  /** element-wise dropout of the normalised features (needs `stats`); training batches only */
  readonly inputDropout?: number;
  /** dropout of whole modalities per sample; training batches only */
  readonly modalityDropout?: number;
  /** the normalisation statistics (input dropout sets a dropped raw feature to its training mean) */
  readonly stats?: StatsByModality;
  /** also feed the users transposed, [d, n] (loss.recommendation 'softmax') */
  readonly usersTransposed?: boolean;
}

/** Gathers samples into preallocated buffers shaped as the MEMER graph's inputs. */
export class BatchAssembler {
  private readonly buffers = new Map<string, Float32Array>();
  private readonly widths = new Map<string, number>();

  constructor(
    private readonly data: MemerTrainingData,
    private readonly modalities: readonly ModalitySpec[],
    private readonly d: number,
    private readonly latentDim: number,
    readonly capacity: number,
    private readonly withNoise: boolean,
    private readonly options: AssemblerOptions = {},
  ) {
    if ((options.inputDropout ?? 0) > 0) for (const s of modalities) if (!options.stats?.[s.modality]) throw new Error(`input dropout needs the ${s.modality} statistics`);
    for (const s of modalities) this.widths.set(INPUT.modality(s.modality), s.dim);
    this.widths.set(INPUT.presence, modalities.length);
    this.widths.set(INPUT.freq, 1);
    this.widths.set(INPUT.itemEmbedding, d);
    this.widths.set(INPUT.userEmbedding, d);
    this.widths.set(INPUT.label, 1);
    if (data.items.targetWeight) this.widths.set(INPUT.targetWeight, 1);
    if (options.usersTransposed) this.widths.set(INPUT.userEmbeddingT, d);
    if (options.tagColumns) this.widths.set(INPUT.tags, options.tagColumns.T + 1);
    if (withNoise) {
      this.widths.set(INPUT.eps1, latentDim);
      this.widths.set(INPUT.eps2, latentDim);
    }
    for (const [name, w] of this.widths) this.buffers.set(name, new Float32Array(capacity * w));
  }

  /**
   * Fill the buffers with samples `order[start .. start+n)`. A training batch passes `rng`: the latent noise, the
   * training freq mode and the dropouts draw from it. Without rng (validation) the noise is zeros, nothing is dropped
   * and freq is the observed one, or `freq` when given (e.g. 0: what a cold post is fed).
   * The returned feeds are views into the reused buffers: valid until the next call.
   */
  fill(order: Int32Array, start: number, n: number, rng?: Rng, freqValue?: number): Record<string, Feed> {
    if (n > this.capacity) throw new Error(`batch of ${n} exceeds capacity ${this.capacity}`);
    const { items, samples, userEmbeddings } = this.data;
    const o = this.options;
    const d = this.d;
    const presence = this.buffers.get(INPUT.presence)!;
    const M = this.modalities.length;
    const dropModality = rng && (o.modalityDropout ?? 0) > 0 ? o.modalityDropout! : 0;
    const dropInput = rng && (o.inputDropout ?? 0) > 0 ? o.inputDropout! : 0;
    this.modalities.forEach((spec, mi) => {
      const out = this.buffers.get(INPUT.modality(spec.modality))!;
      const matrix = items.features[spec.modality]!;
      const p = items.presence?.[spec.modality];
      const mean = dropInput ? o.stats![spec.modality]!.mean : undefined;
      const keep = 1 - dropInput;
      for (let k = 0; k < n; k++) {
        const i = samples.item[order[start + k]];
        const present = (!p || p[i] !== 0) && !(dropModality && rng!.next() < dropModality);
        presence[k * M + mi] = present ? 1 : 0;
        if (present) {
          readRow(matrix, i, out, k * spec.dim);
          if (mean) {
            // x~' = mask x~ / keep in normalised space, i.e. x' = mu + mask (x - mu) / keep in raw space.
            for (let j = 0, a = k * spec.dim; j < spec.dim; j++, a++) out[a] = rng!.next() < dropInput ? mean[j] : mean[j] + (out[a] - mean[j]) / keep;
          }
        } else out.fill(0, k * spec.dim, (k + 1) * spec.dim);
      }
    });
    if (o.tagColumns) {
      const { T, offsets, columns } = o.tagColumns;
      const tags = this.buffers.get(INPUT.tags)!;
      for (let k = 0; k < n; k++) {
        const i = samples.item[order[start + k]];
        writeTagWeights(tags, k * (T + 1), T, columns.subarray(offsets[i], offsets[i + 1]));
      }
    }
    const freq = this.buffers.get(INPUT.freq)!;
    const vItem = this.buffers.get(INPUT.itemEmbedding)!;
    const vUser = this.buffers.get(INPUT.userEmbedding)!;
    const label = this.buffers.get(INPUT.label)!;
    const weight = this.buffers.get(INPUT.targetWeight);
    for (let k = 0; k < n; k++) {
      const s = order[start + k];
      const i = samples.item[s];
      const u = samples.user[s];
      freq[k] = freqValue !== undefined ? freqValue : !rng || !o.freq || o.freq === 'observed' ? items.freq[i] : o.freq === 'zero' ? 0 : rng.next() * items.freq[i];
      vItem.set(items.embeddings.subarray(i * d, (i + 1) * d), k * d);
      vUser.set(userEmbeddings.subarray(u * d, (u + 1) * d), k * d);
      label[k] = samples.label[s];
      if (weight) weight[k] = items.targetWeight![i];
    }
    const vUserT = this.buffers.get(INPUT.userEmbeddingT);
    if (vUserT) for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) vUserT[j * n + k] = vUser[k * d + j];
    if (this.withNoise) {
      for (const name of [INPUT.eps1, INPUT.eps2]) {
        const e = this.buffers.get(name)!.subarray(0, n * this.latentDim);
        if (rng) rng.fillNormal(e);
        else e.fill(0);
      }
    }
    const feeds: Record<string, Feed> = {};
    for (const [name, w] of this.widths) {
      const dims = name === INPUT.label || name === INPUT.targetWeight ? [n] : name === INPUT.userEmbeddingT ? [w, n] : [n, w];
      feeds[name] = { data: this.buffers.get(name)!.subarray(0, n * w), dims };
    }
    return feeds;
  }
}
