/**
 * HYBRID_MF training: negative samplers, the WARP and BPR epochs, and epoch selection on held-out training items.
 *
 *   negatives   drawn from the training items (those with a positive in the run): uniformly, or in proportion to their
 *               training positives; a draw the user has a training positive for is drawn again (up to 32 draws)
 *   WARP        per positive (u,i): draw negatives j until s(u,j) > s(u,i) - 1, at most maxSampled trials; on a
 *               violation at trial t, one step with weight c = min(L(floor((N-1)/t)), maxRankWeight), L(k) = H_k =
 *               sum_{j<=k} 1/j, N = the negative pool's distinct items (Weston et al. 2011; LightFM uses log k ~ H_k)
 *   BPR         one negative per positive, c = sigmoid(-(s(u,i) - s(u,j))) (Rendle et al. 2009)
 *   selection   validationFraction of the training items become pseudo-cold: all their positives leave the run and they
 *               lose their id feature; after each epoch, GAUC (evaluate.ts) on their positives plus sampled negatives
 *               among them picks the epoch count (patience stops the run); the refit trains on everything for that
 *               count
 *
 * Explicit negatives (label 0) in `train` are skipped: the model learns from positives only (implicit feedback), and
 * its negatives are the sampled ones.
 */
import type { Dataset } from '../../datasets/types.js';
import { Rng } from '../../lib/random.js';
import { perUserAuc, sampledRows, type PairRows } from './evaluate.js';
import { denseFeatures, sparseFeatures, type DenseFeatures, type ItemFeatures } from './features.js';
import { copyParams, hybridMfModel, initParams, itemVectors, scorePairs, type HybridMfModel, type HybridParams } from './model.js';
import { hybridMfOptions, type HybridMfOptions } from './options.js';
import { pairScore, pairScratch, pairStep, sigmoid, softplus, userDenseView } from './update.js';

/** Draws before a negative sampler gives up on a user (whose positives would cover nearly every candidate). */
const MAX_DRAWS = 32;

interface Positives {
  length: number;
  user: Int32Array;
  item: Int32Array;
}

/** Each user's distinct positive items, sorted (CSR), for "does u have a positive for j" by binary search. */
class UserPositives {
  private readonly offsets: Int32Array;
  private readonly items: Int32Array;

  constructor(users: number, pos: Positives) {
    const counts = new Int32Array(users + 1);
    for (let k = 0; k < pos.length; k++) counts[pos.user[k] + 1]++;
    for (let u = 0; u < users; u++) counts[u + 1] += counts[u];
    const items = new Int32Array(pos.length);
    const fill = counts.slice(0, users);
    for (let k = 0; k < pos.length; k++) items[fill[pos.user[k]]++] = pos.item[k];
    for (let u = 0; u < users; u++) items.subarray(counts[u], counts[u + 1]).sort();
    this.offsets = counts;
    this.items = items;
  }

  has(u: number, i: number): boolean {
    let lo = this.offsets[u];
    let hi = this.offsets[u + 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const v = this.items[mid];
      if (v === i) return true;
      if (v < i) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }
}

interface Run {
  p: HybridParams;
  f: ItemFeatures;
  pos: Positives;
  known: UserPositives;
  /** Negative candidates (distinct items for uniform sampling, one entry per positive for popularity). */
  pool: Int32Array;
  /** Distinct items in the pool (N of the WARP weight). */
  distinct: number;
  harmonic: Float64Array;
  o: Readonly<HybridMfOptions>;
  rng: Rng;
}

export interface EpochRecord {
  epoch: number;
  /** BPR: mean -log sigmoid(margin); WARP: share of positives for which a violating negative was found. */
  trainLoss: number;
  /** Validation GAUC on the pseudo-cold items (selection run only). */
  validationGauc?: number;
  seconds: number;
}

function subset(pos: Positives, keep: (k: number) => boolean): Positives {
  const idx: number[] = [];
  for (let k = 0; k < pos.length; k++) if (keep(k)) idx.push(k);
  return { length: idx.length, user: Int32Array.from(idx, (k) => pos.user[k]), item: Int32Array.from(idx, (k) => pos.item[k]) };
}

function flagItems(n: number, pos: Positives): Uint8Array {
  const f = new Uint8Array(n);
  for (let k = 0; k < pos.length; k++) f[pos.item[k]] = 1;
  return f;
}

function startRun(ds: Dataset, pos: Positives, known: UserPositives, dense: DenseFeatures, o: Readonly<HybridMfOptions>, seed: number): Run {
  const n = ds.items.ids.length;
  const warm = flagItems(n, pos);
  const sparse = sparseFeatures(ds, warm, o);
  const f: ItemFeatures = { items: n, sparse, dense };
  const distinctItems: number[] = [];
  for (let i = 0; i < n; i++) if (warm[i]) distinctItems.push(i);
  const pool = o.negatives === 'popularity' ? Int32Array.from(pos.item) : Int32Array.from(distinctItems);
  const N = distinctItems.length;
  const harmonic = new Float64Array(N + 1);
  for (let k = 1; k <= N; k++) harmonic[k] = harmonic[k - 1] + 1 / k;
  const rng = new Rng(seed);
  const p = initParams(ds.userIds.length, sparse.count, dense.dim, o.d, o.initScale, rng.nextUint32());
  return { p, f, pos, known, pool, distinct: N, harmonic, o, rng };
}

/** A negative for (u, i): a pool item other than i that u has no training positive for; -1 if none was found. */
function drawNegative(run: Run, u: number, i: number): number {
  for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
    const j = run.pool[run.rng.int(run.pool.length)];
    if (j !== i && !run.known.has(u, j)) return j;
  }
  return -1;
}

/** One pass over the run's positives in a fresh random order. */
function epoch(run: Run, order: Int32Array): number {
  const { p, f, pos, o } = run;
  const g = pairScratch(p, f);
  const z = new Float64Array(p.dense);
  run.rng.shuffle(order);
  let loss = 0;
  for (let r = 0; r < order.length; r++) {
    const k = order[r];
    const u = pos.user[k];
    const i = pos.item[k];
    userDenseView(p, u, z);
    const sPos = pairScore(p, f, u, i, z);
    if (o.loss === 'bpr') {
      const j = drawNegative(run, u, i);
      if (j < 0) continue;
      const m = sPos - pairScore(p, f, u, j, z);
      loss += softplus(-m);
      pairStep(p, f, u, i, j, sigmoid(-m), o.itemAlpha, o.userAlpha, o.lr, g);
      continue;
    }
    for (let t = 1; t <= o.maxSampled; t++) {
      const j = drawNegative(run, u, i);
      if (j < 0) break;
      if (pairScore(p, f, u, j, z) > sPos - 1) {
        const c = Math.min(run.harmonic[Math.floor((run.distinct - 1) / t)], o.maxRankWeight);
        pairStep(p, f, u, i, j, c, o.itemAlpha, o.userAlpha, o.lr, g);
        loss += 1;
        break;
      }
    }
  }
  return order.length > 0 ? loss / order.length : 0;
}

/** Trains `epochs` epochs; `after` may stop the run early (returns true to stop). */
function fit(run: Run, epochs: number, after?: (record: EpochRecord) => boolean): EpochRecord[] {
  const order = Int32Array.from({ length: run.pos.length }, (_, k) => k);
  const history: EpochRecord[] = [];
  for (let e = 1; e <= epochs; e++) {
    const t0 = performance.now();
    const trainLoss = epoch(run, order);
    const record: EpochRecord = { epoch: e, trainLoss, seconds: (performance.now() - t0) / 1000 };
    history.push(record);
    if (after?.(record)) break;
  }
  return history;
}

function gaucOn(run: Run, rows: PairRows, items: Int32Array): number {
  const { vectors, bias } = itemVectors(run.p, run.f, items);
  return perUserAuc(rows.user, scorePairs(run.p.d, run.p.P, vectors, bias, rows.user, rows.item), rows.label).gauc;
}

/**
 * Train HYBRID_MF on the positive interactions `train` (indices into ds.interactions, one signal; label-0 rows are
 * skipped). Items with a positive in `train` get an id feature; every other item is cold (tags and content only).
 */
export function trainHybridMf(ds: Dataset, train: Int32Array, options: Partial<HybridMfOptions> = {}): HybridMfModel {
  const o = hybridMfOptions(options);
  const t0 = performance.now();
  const t = ds.interactions;
  const n = ds.items.ids.length;
  const users = ds.userIds.length;
  let skipped = 0;
  const idx: number[] = [];
  let signal = -1;
  for (const k of train) {
    if (!(k >= 0 && k < t.length)) throw new RangeError(`HYBRID_MF: interaction index ${k} outside 0..${t.length - 1}`);
    if (signal < 0) signal = t.signal[k];
    // One model per signal, as the FFM backbones: mixing signals would blend different notions of "positive".
    else if (t.signal[k] !== signal) throw new RangeError(`HYBRID_MF: train mixes signals "${ds.signals[signal]}" and "${ds.signals[t.signal[k]]}"; train one model per signal`);
    if (t.label[k] === 1) idx.push(k);
    else skipped++;
  }
  if (idx.length === 0) throw new RangeError('HYBRID_MF: no positive interaction to train on');
  const all: Positives = { length: idx.length, user: Int32Array.from(idx, (k) => t.user[k]), item: Int32Array.from(idx, (k) => t.item[k]) };
  const known = new UserPositives(users, all);
  const warm = flagItems(n, all);
  const dense = denseFeatures(ds, warm, o);
  const tFeat = performance.now();
  const rng = new Rng(o.seed);

  // Selection: hold out training items as pseudo-cold ones.
  let selection: { history: EpochRecord[]; bestEpoch: number; bestGauc: number; heldItems: number; rows: number; snapshot: HybridParams | null; run: Run } | null = null;
  let selectionNote: string | null = null;
  if (o.validationFraction > 0) {
    const warmList = Int32Array.from({ length: n }, (_, i) => i).filter((i) => warm[i]);
    rng.shuffle(warmList);
    const held = warmList.subarray(0, Math.round(o.validationFraction * warmList.length));
    const isHeld = new Uint8Array(n);
    for (const i of held) isHeld[i] = 1;
    const selPos = subset(all, (k) => !isHeld[all.item[k]]);
    const heldPos = subset(all, (k) => isHeld[all.item[k]] === 1);
    const rows = sampledRows(heldPos.user, heldPos.item, Int32Array.from(held).sort(), o.validationNegatives, (u, j) => known.has(u, j), rng.nextUint32());
    const usable = held.length >= 2 && selPos.length > 0 && Number.isFinite(perUserAuc(rows.user, new Float64Array(rows.length), rows.label).gauc);
    if (!usable) selectionNote = 'skipped: too few held-out items or users with a positive and a negative';
    else {
      const run = startRun(ds, selPos, known, dense, o, rng.nextUint32());
      const heldItems = Int32Array.from(held);
      let bestEpoch = 0;
      let bestGauc = -Infinity;
      let snapshot: HybridParams | null = null;
      const history = fit(run, o.epochs, (rec) => {
        rec.validationGauc = gaucOn(run, rows, heldItems);
        if (rec.validationGauc > bestGauc) {
          bestGauc = rec.validationGauc;
          bestEpoch = rec.epoch;
          if (!o.refit) snapshot = copyParams(run.p);
        }
        return rec.epoch - bestEpoch >= o.patience;
      });
      selection = { history, bestEpoch: Math.max(1, bestEpoch), bestGauc, heldItems: held.length, rows: rows.length, snapshot, run };
    }
  }
  const tSel = performance.now();

  let final: Run;
  let finalHistory: EpochRecord[] = [];
  if (selection && !o.refit) {
    final = selection.run;
    if (selection.snapshot) final.p = selection.snapshot;
  } else {
    final = startRun(ds, all, known, dense, o, rng.nextUint32());
    finalHistory = fit(final, selection ? selection.bestEpoch : o.epochs);
  }
  const tEnd = performance.now();
  const info: Record<string, unknown> = {
    method: 'HYBRID_MF',
    signal: ds.signals[signal],
    loss: o.loss,
    positives: all.length,
    skippedExplicitNegatives: skipped,
    warmItems: warm.reduce((a, b) => a + b, 0),
    denseDim: dense.dim,
    denseBlocks: dense.blocks,
    sparseFeatures: final.f.sparse.count,
    epochs: selection && !o.refit ? selection.bestEpoch : finalHistory.length,
    bestEpoch: selection?.bestEpoch ?? null,
    validationGauc: selection?.bestGauc ?? null,
    validation: selection ? { heldItems: selection.heldItems, rows: selection.rows, history: selection.history } : selectionNote ?? 'none',
    history: finalHistory,
    featureSeconds: (tFeat - t0) / 1000,
    selectionSeconds: (tSel - tFeat) / 1000,
    trainSeconds: (tEnd - tSel) / 1000,
    seconds: 0,
    options: o,
  };
  const model = hybridMfModel(final.p, final.f, info);
  info.seconds = (performance.now() - t0) / 1000;
  return model;
}
