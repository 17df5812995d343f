/**
 * Training of the subword text model (text-model.ts): fastText's unsupervised skip-gram with negative sampling
 * (Bojanowski et al. 2017), on the platform's own post texts and tags.
 *
 * Glossary
 *   centre     a token whose subword rows z_g (g in G_w) give the hidden vector h = mean_g z_g
 *   context    a token it should predict, with output vector u_c; `negatives` other words u_n drawn from the
 *              unigram distribution to the power 0.75 (never the context word itself)
 *   pair loss  L = -log s(u_c . h) - sum_n log s(-u_n . h), s the logistic function
 *   contexts   of a text token: the text tokens within a window b drawn uniformly from 1..window (as word2vec and
 *              fastText do), and every tag token of the post; of a tag token: every other token of the post. Posts
 *              never share a window: one post's words say nothing about the next post's.
 *
 * The update follows fastText: every output row u gets -lr dL/du, and every subword row of the centre gets
 * -lr dL/dh (not dL/dz_g = dL/dh / |G_w|: each row moves as far as a whole word vector would, fastText's choice, a
 * per-row learning rate |G_w| times larger). h is computed once per centre and its rows updated once, after all its
 * contexts (the gradient of the sum of its pair losses). The learning rate decays linearly to 0 over the run; frequent
 * words are subsampled (kept with probability sqrt(t/f) + t/f, f the word's share of the tokens). Input rows start
 * uniform in [-1/dim, 1/dim] and output rows at 0; rows that no training token touched are set to 0 at the end (their
 * random start would be noise in an unseen word's vector), then every row is rounded to float16, the precision the
 * model file stores. One thread, one seeded generator: the same corpus, options and seed give the same bits.
 */
import { Rng } from '../../lib/random.js';
import { halfTable, toHalf } from '../../lib/float16.js';
import {
  checkShape,
  docTokens,
  subwordRows,
  textModelBytes,
  TextModelError,
  type TextDoc,
  type TextModel,
} from './text-model.js';

export interface TextTrainOptions {
  /** Vector width (default 64). */
  dim: number;
  /** Hash buckets for character n-grams (default 2^16: with 50k words and dim 64 a ~15 MB model file). */
  buckets: number;
  /** Character n-gram lengths (default 3..6, fastText's). */
  minn: number;
  maxn: number;
  /** Words seen fewer times are left out of the vocabulary and of training (default 2). */
  minCount: number;
  /** At most this many words, the most frequent (default 50,000; bounds the model file). */
  maxWords: number;
  epochs: number;
  /** Largest window radius over a post's text (default 5). */
  window: number;
  /** Negative samples per context (default 5). */
  negatives: number;
  /** Starting learning rate (default 0.05, fastText's for skip-gram), decayed linearly to 0. */
  lr: number;
  /** Subsampling threshold t (default 1e-3; 0 keeps every token). */
  sample: number;
  seed: number;
}

export const DEFAULT_TEXT_TRAIN_OPTIONS: Readonly<TextTrainOptions> = Object.freeze({
  dim: 64,
  buckets: 2 ** 16,
  minn: 3,
  maxn: 6,
  minCount: 2,
  maxWords: 50_000,
  epochs: 5,
  window: 5,
  negatives: 5,
  lr: 0.05,
  sample: 1e-3,
  seed: 1,
});

export interface TextTrainStats {
  /** Tokens of the corpus that are vocabulary words (per epoch, before subsampling). */
  tokens: number;
  /** Centre tokens processed over all epochs (after subsampling) and (centre, context) pairs. */
  centres: number;
  pairs: number;
  /** Mean pair loss of the first and of the last epoch. */
  firstLoss: number;
  lastLoss: number;
  seconds: number;
  /** Corpus tokens per second, all epochs: tokens * epochs / seconds. */
  tokensPerSecond: number;
}

type FloatArray = Float32Array | Float64Array;

const NEG_TABLE_SIZE = 1_000_000;

/** h = mean of input rows `rows` (repeats count). */
export function hiddenOf(input: FloatArray, dim: number, rows: ArrayLike<number>, h: Float64Array): void {
  h.fill(0);
  for (let j = 0; j < rows.length; j++) {
    const off = rows[j] * dim;
    for (let k = 0; k < dim; k++) h[k] += input[off + k];
  }
  const inv = 1 / rows.length;
  for (let k = 0; k < dim; k++) h[k] *= inv;
}

/** Scratch for pairStep's per-row coefficients (grown on demand; training is single-threaded). */
let coefScratch = new Float64Array(16);

/**
 * One (centre, context) pair: returns its loss, adds dL/dh to `gradH`, and moves each output row by -lr dL/du
 * (lr = 0 leaves them; `gradOut`, when given, receives dL/du per output row, added). The scores of all the pair's
 * rows are taken before any update; dL/dh and the row's update share one pass over it, so a negative drawn twice
 * contributes to dL/dh with its first update applied (as in fastText); with distinct rows, or lr = 0, the step is
 * exactly -lr times the gradient.
 */
export function pairStep(
  output: FloatArray,
  dim: number,
  h: Float64Array,
  target: number,
  negatives: ArrayLike<number>,
  lr: number,
  gradH: Float64Array,
  gradOut?: Map<number, Float64Array>,
): number {
  const count = 1 + negatives.length;
  if (coefScratch.length < count) coefScratch = new Float64Array(count);
  const coef = coefScratch;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const off = (i === 0 ? target : negatives[i - 1]) * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += output[off + k] * h[k];
    // Label 1 for the context, 0 for a negative; z = s for the context, -s for a negative, and
    // -log s(z) = log1p(e^-|z|) + max(0, -z), dL/ds = s(s) - label.
    const z = i === 0 ? s : -s;
    const e = Math.exp(-Math.abs(z));
    loss += Math.log1p(e) + (z < 0 ? -z : 0);
    const sigZ = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    coef[i] = i === 0 ? sigZ - 1 : 1 - sigZ;
  }
  for (let i = 0; i < count; i++) {
    const row = i === 0 ? target : negatives[i - 1];
    const off = row * dim;
    const c = coef[i];
    const a = lr * c;
    for (let k = 0; k < dim; k++) {
      const u = output[off + k];
      gradH[k] += c * u;
      output[off + k] = u - a * h[k];
    }
    if (gradOut) {
      let g = gradOut.get(row);
      if (!g) gradOut.set(row, (g = new Float64Array(dim)));
      for (let k = 0; k < dim; k++) g[k] += c * h[k];
    }
  }
  return loss;
}

/** The pair loss alone, for finite differences: L(input, output) of centre rows, context and negatives. */
export function pairLoss(input: FloatArray, output: FloatArray, dim: number, rows: ArrayLike<number>, target: number, negatives: ArrayLike<number>): number {
  const h = new Float64Array(dim);
  hiddenOf(input, dim, rows, h);
  return pairStep(output, dim, h, target, negatives, 0, new Float64Array(dim));
}

/** Applies -lr * gradH to every subword row of the centre (fastText's rule; see the header). */
export function updateRows(input: FloatArray, dim: number, rows: ArrayLike<number>, gradH: Float64Array, lr: number): void {
  for (let j = 0; j < rows.length; j++) {
    const off = rows[j] * dim;
    for (let k = 0; k < dim; k++) input[off + k] -= lr * gradH[k];
  }
}

function validate(o: TextTrainOptions): void {
  const int = (name: keyof TextTrainOptions, min: number, max: number) => {
    const v = o[name];
    if (!(Number.isInteger(v) && v >= min && v <= max)) throw new TextModelError('BAD_PARAM', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  int('dim', 1, 4096);
  int('buckets', 0, 2 ** 24);
  int('minn', 1, 16);
  int('maxn', o.minn, 16);
  int('minCount', 1, 2 ** 31);
  int('maxWords', 1, 2 ** 24);
  int('epochs', 1, 10_000);
  int('window', 1, 1000);
  int('negatives', 1, 1000);
  if (!(o.lr > 0 && o.lr <= 10)) throw new TextModelError('BAD_PARAM', `lr must be in (0, 10], got ${o.lr}`);
  if (!(o.sample >= 0 && o.sample <= 1)) throw new TextModelError('BAD_PARAM', `sample must be in [0, 1], got ${o.sample}`);
  if (!Number.isInteger(o.seed)) throw new TextModelError('BAD_PARAM', `seed must be an integer, got ${o.seed}`);
}

/** A fastText-style subword model trained on `docs` (post texts, with their tags when given). */
export function trainTextModel(docs: readonly TextDoc[], options: Partial<TextTrainOptions> = {}): TextModel & { stats: TextTrainStats } {
  const o: TextTrainOptions = { ...DEFAULT_TEXT_TRAIN_OPTIONS, ...options };
  validate(o);
  const start = performance.now();
  const parsed = docs.map(docTokens);

  // Vocabulary: words reaching minCount, most frequent first (ties by first appearance: deterministic).
  const counts = new Map<string, number>();
  for (const p of parsed) for (const t of p.tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const words = [...counts.entries()]
    .filter(([, c]) => c >= o.minCount)
    .sort((a, b) => b[1] - a[1])
    .slice(0, o.maxWords)
    .map(([w]) => w);
  if (words.length === 0) throw new TextModelError('EMPTY_CORPUS', `no token appears at least minCount=${o.minCount} times in ${docs.length} texts`);
  const wordIndex = new Map(words.map((w, i) => [w, i]));
  const rowsTotal = words.length + o.buckets;
  checkShape(rowsTotal, o.dim);
  const vocab = { dim: o.dim, buckets: o.buckets, minn: o.minn, maxn: o.maxn, words, wordIndex };

  // Each word's subword rows, flattened.
  const subOffsets = new Int32Array(words.length + 1);
  const subLists = words.map((w) => subwordRows(vocab, w));
  for (let i = 0; i < words.length; i++) subOffsets[i + 1] = subOffsets[i] + subLists[i].length;
  const subRows = new Int32Array(subOffsets[words.length]);
  subLists.forEach((l, i) => subRows.set(l, subOffsets[i]));

  // Posts as word ids (out-of-vocabulary tokens dropped, as fastText does) and where their tags start.
  const posts = parsed.map((p) => {
    const ids: number[] = [];
    let textCount = 0;
    p.tokens.forEach((t, i) => {
      const id = wordIndex.get(t);
      if (id === undefined) return;
      ids.push(id);
      if (i < p.textCount) textCount++;
    });
    return { ids: Int32Array.from(ids), textCount };
  });
  const wordCounts = Float64Array.from(words, (w) => counts.get(w)!);
  const tokens = wordCounts.reduce((a, b) => a + b, 0);

  const rng = new Rng(o.seed);
  const input = new Float32Array(rowsTotal * o.dim);
  for (let i = 0; i < input.length; i++) input[i] = rng.uniform(-1 / o.dim, 1 / o.dim);
  const output = new Float32Array(words.length * o.dim);
  const touched = new Uint8Array(rowsTotal);

  // Negative table: word i fills a share of slots proportional to count^0.75.
  const negTable = new Int32Array(NEG_TABLE_SIZE);
  {
    const pow = wordCounts.map((c) => c ** 0.75);
    const z = pow.reduce((a, b) => a + b, 0);
    let w = 0;
    let cum = pow[0] / z;
    for (let i = 0; i < NEG_TABLE_SIZE; i++) {
      while ((i + 0.5) / NEG_TABLE_SIZE > cum && w < words.length - 1) cum += pow[++w] / z;
      negTable[i] = w;
    }
  }
  const keepProb = Float64Array.from(wordCounts, (c) => {
    if (o.sample === 0) return 1;
    const f = c / tokens;
    return Math.sqrt(o.sample / f) + o.sample / f;
  });

  const h = new Float64Array(o.dim);
  const gradH = new Float64Array(o.dim);
  const negs = new Int32Array(o.negatives);
  const kept = new Int32Array(Math.max(1, ...posts.map((p) => p.ids.length)));
  const totalWork = tokens * o.epochs;
  let processed = 0;
  let centres = 0;
  let pairs = 0;
  let firstLoss = 0;
  let lastLoss = 0;

  const drawNegatives = (target: number) => {
    for (let n = 0; n < o.negatives; n++) {
      let neg: number;
      // A vocabulary of one word has no negative but itself: then it is used (the loss still pulls it apart).
      do neg = negTable[Math.floor(rng.next() * NEG_TABLE_SIZE)];
      while (neg === target && words.length > 1);
      negs[n] = neg;
    }
  };

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let epochLoss = 0;
    let epochPairs = 0;
    for (const post of posts) {
      // Subsample this post's tokens for this epoch; text tokens then tag tokens, in order.
      let nText = 0;
      let n = 0;
      for (let i = 0; i < post.ids.length; i++) {
        const id = post.ids[i];
        if (keepProb[id] >= 1 || rng.next() < keepProb[id]) {
          kept[n++] = id;
          if (i < post.textCount) nText++;
        }
      }
      const lr = o.lr * Math.max(1e-4, 1 - processed / totalWork);
      processed += post.ids.length;
      for (let i = 0; i < n; i++) {
        const w = kept[i];
        const rows = subRows.subarray(subOffsets[w], subOffsets[w + 1]);
        hiddenOf(input, o.dim, rows, h);
        gradH.fill(0);
        let from: number;
        let to: number;
        if (i < nText) {
          const b = 1 + rng.int(o.window);
          from = Math.max(0, i - b);
          to = Math.min(nText, i + b + 1);
        } else {
          from = 0;
          to = nText;
        }
        let contexts = 0;
        const step = (j: number) => {
          drawNegatives(kept[j]);
          epochLoss += pairStep(output, o.dim, h, kept[j], negs, lr, gradH);
          contexts++;
        };
        for (let j = from; j < to; j++) if (j !== i) step(j);
        for (let j = nText; j < n; j++) if (j !== i) step(j); // tag tokens: context of every token
        if (contexts === 0) continue; // a post of one token teaches nothing
        epochPairs += contexts;
        updateRows(input, o.dim, rows, gradH, lr);
        for (let j = 0; j < rows.length; j++) touched[rows[j]] = 1;
        centres++;
      }
    }
    pairs += epochPairs;
    const mean = epochPairs ? epochLoss / epochPairs : 0;
    if (epoch === 0) firstLoss = mean;
    lastLoss = mean;
  }

  const widen = halfTable();
  for (let r = 0; r < rowsTotal; r++) {
    const off = r * o.dim;
    if (!touched[r]) input.fill(0, off, off + o.dim);
    else for (let k = 0; k < o.dim; k++) input[off + k] = widen[toHalf(input[off + k])];
  }
  const seconds = (performance.now() - start) / 1000;
  const stats: TextTrainStats = { tokens, centres, pairs, firstLoss, lastLoss, seconds, tokensPerSecond: (tokens * o.epochs) / seconds };
  const info = {
    'memer.train.method': 'skipgram-negative-sampling',
    'memer.train.options': JSON.stringify({ ...o, dim: undefined, buckets: undefined, minn: undefined, maxn: undefined }),
    'memer.train.corpus': JSON.stringify({ texts: docs.length, tokens, words: words.length, bytes: textModelBytes(words.length, o.buckets, o.dim) }),
  };
  return { ...vocab, input, info, stats };
}
