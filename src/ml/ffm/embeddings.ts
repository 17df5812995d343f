/**
 * The paper's FFM embeddings and how well their dot product ranks, beside the full FFM score.
 *
 * Glossary (u = the row's user feature, p = its post feature, c = its context features, x = values, r = 1/sum x^2)
 *   v_p = w_{p,user}   post embedding: the post's latent vector towards the user field
 *   v_u = w_{u,post}   user embedding: the user's latent vector towards the post field
 *   phi(x) = r x_u x_p (v_u . v_p)                                      <- what the embeddings keep
 *          + r sum_c x_c [x_u (w_{u,f(c)} . w_{c,user}) + x_p (w_{p,f(c)} . w_{c,post})]
 *          + r sum_{c1<c2} x_c1 x_c2 (w_{c1,f(c2)} . w_{c2,f(c1)})       <- what the dot product leaves out
 *   With biases (params.biases) phi also has b_0 + b_u + b_p (+ the context biases); foldedEmbeddings puts the first
 *   three into the vectors (see docs/ffm.md):
 *     post [v_p, b_p, 1]   user [v_u, 1/r, (b_0 + b_u)/r]   so that r (user . post) = r v_u . v_p + b_0 + b_u + b_p
 */
import { auc } from '../metrics.js';
import { fieldIndex, type FfmData } from './data.js';
import { FfmError } from './errors.js';
import { biasBaseOf, fieldBiases, fieldVectors, globalBias, meanLogLoss, predictLogits, type FfmModel } from './model.js';

export interface FfmEmbeddings {
  readonly k: number;
  /** users x k, row i = v_u of user i (towards the post field). */
  readonly users: Float32Array;
  /** posts x k, row i = v_p of post i (towards the user field). */
  readonly posts: Float32Array;
}

/** v_u for every user and v_p for every post (copies; the model is not referenced). */
export function ffmEmbeddings(model: FfmModel, userField = 'user', postField = 'post'): FfmEmbeddings {
  const u = fieldIndex(model.space, userField);
  const p = fieldIndex(model.space, postField);
  return { k: model.params.k, users: fieldVectors(model, u, p), posts: fieldVectors(model, p, u) };
}

export interface FoldedEmbeddings extends FfmEmbeddings {
  /** Width of the folded vectors: k + 2. */
  readonly d: number;
  /** The instance normalisation r of a (user, post) row the fold assumes: phi = r (user . post). */
  readonly r: number;
}

/**
 * Bias-folded embeddings (k + 2 wide): posts [v_p, b_p, 1], users [v_u, 1/r, (b_0 + b_u)/r], so that for a row of
 * user u and post p, r (users_u . posts_p) = r v_u . v_p + b_0 + b_u + b_p, the backbone's logit when the row has no
 * other field. The factor r stays outside the dot product, as for ffmEmbeddings (where phi = r v_u . v_p), so
 * consumers that scale users by r (MEMER's BCE term, the warm-up of the cvar protocol) read the backbone's own
 * probability either way. `r` defaults to the model's: 1 / (number of fields) with instance normalisation (every field
 * of a Dataset row has squared norm 1), else 1. Without biases the two extra columns add nothing to any dot product
 * (b = 0). Context fields' pair terms and biases are left out, as in ffmEmbeddings.
 */
export function foldedEmbeddings(model: FfmModel, options: { userField?: string; postField?: string; r?: number } = {}): FoldedEmbeddings {
  const uf = fieldIndex(model.space, options.userField ?? 'user');
  const pf = fieldIndex(model.space, options.postField ?? 'post');
  const r = options.r ?? (model.params.normalize ? 1 / model.space.fields.length : 1);
  if (!(r > 0 && Number.isFinite(r))) throw new FfmError('BAD_PARAM', `fold scale r must be > 0, got ${r}`);
  const k = model.params.k;
  const d = k + 2;
  const fold = (vectors: Float32Array, biases: Float32Array, last: (b: number) => [number, number]) => {
    const n = biases.length;
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      out.set(vectors.subarray(i * k, (i + 1) * k), i * d);
      const [a, b] = last(biases[i]);
      out[i * d + k] = a;
      out[i * d + k + 1] = b;
    }
    return out;
  };
  const b0 = globalBias(model);
  return {
    k,
    d,
    r,
    posts: fold(fieldVectors(model, pf, uf), fieldBiases(model, pf), (b) => [b, 1]),
    users: fold(fieldVectors(model, uf, pf), fieldBiases(model, uf), (b) => [1 / r, (b0 + b) / r]),
  };
}

/**
 * The score the folded embeddings give each row, r (users_u . posts_p) = r v_u . v_p + b_0 + b_u + b_p, computed from
 * the weights (no k + 2 matrices are built); 0 for a row without a user or post entry. `r` as in foldedEmbeddings.
 */
export function foldedScores(model: FfmModel, data: FfmData, userField = 'user', postField = 'post', r = model.params.normalize ? 1 / model.space.fields.length : 1): Float32Array {
  const dots = dotScores(model, data, userField, postField);
  const W = model.weights;
  const base = biasBaseOf(model.space, model.params);
  const out = new Float32Array(data.rows);
  forUserPostRows(data, userField, postField, (i, u, p) => {
    out[i] = r * dots[i] + (base < 0 ? 0 : W[base] + W[base + 2 + 2 * u] + W[base + 2 + 2 * p]);
  });
  return out;
}

/** Calls `each(row, user, post)` for every row that has a user and a post entry. */
function forUserPostRows(data: FfmData, userField: string, postField: string, each: (row: number, user: number, post: number) => void): void {
  const uf = fieldIndex(data.space, userField);
  const pf = fieldIndex(data.space, postField);
  for (let i = 0; i < data.rows; i++) {
    let u = -1, p = -1;
    for (let a = data.offsets[i]; a < data.offsets[i + 1]; a++) {
      if (data.fields[a] === uf) u = data.features[a];
      else if (data.fields[a] === pf) p = data.features[a];
    }
    if (u >= 0 && p >= 0) each(i, u, p);
  }
}

/** v_u . v_p for every row (0 for a row without a user or post entry). */
export function dotScores(model: FfmModel, data: FfmData, userField = 'user', postField = 'post'): Float32Array {
  const uf = fieldIndex(data.space, userField);
  const pf = fieldIndex(data.space, postField);
  const { weights: W, params } = model;
  const k = params.k;
  const m = model.space.fields.length;
  const out = new Float32Array(data.rows);
  forUserPostRows(data, userField, postField, (i, u, p) => {
    const wu = (u * m + pf) * 2 * k;
    const wp = (p * m + uf) * 2 * k;
    let dot = 0;
    for (let d = 0; d < k; d++) dot += W[wu + d] * W[wp + d];
    out[i] = dot;
  });
  return out;
}

export interface EmbeddingAuc {
  rows: number;
  positives: number;
  /** AUC of the full FFM logit phi(x). */
  aucFull: number;
  /** AUC of v_u . v_p alone (the score MEMER's predicted embeddings are used with). */
  aucDot: number;
  /** AUC of the bias-folded dot product (foldedScores: r v_u . v_p + b_0 + b_u + b_p); aucDot's order without biases. */
  aucFolded: number;
  /** Mean log loss of the full model. */
  logLoss: number;
}

/** AUC of the full score and of the embedding dot product on the same rows (e.g. a validation set). */
export function embeddingAuc(model: FfmModel, data: FfmData, userField = 'user', postField = 'post'): EmbeddingAuc {
  if (data.rows === 0) throw new FfmError('EMPTY_DATA', 'no rows to evaluate');
  let positives = 0;
  for (let i = 0; i < data.rows; i++) positives += data.labels[i];
  return {
    rows: data.rows,
    positives,
    aucFull: auc(predictLogits(model, data), data.labels),
    aucDot: auc(dotScores(model, data, userField, postField), data.labels),
    aucFolded: auc(foldedScores(model, data, userField, postField), data.labels),
    logLoss: meanLogLoss(model.weights, data, model.params),
  };
}
