/**
 * The paper's FFM embeddings and how well their dot product ranks, beside the full FFM score.
 *
 * Glossary (u = the row's user feature, p = its post feature, c = its context features, x = values, r = 1/sum x^2)
 *   v_p = w_{p,user}   post embedding: the post's latent vector towards the user field
 *   v_u = w_{u,post}   user embedding: the user's latent vector towards the post field
 *   phi(x) = r x_u x_p (v_u . v_p)                                      <- what the embeddings keep
 *          + r sum_c x_c [x_u (w_{u,f(c)} . w_{c,user}) + x_p (w_{p,f(c)} . w_{c,post})]
 *          + r sum_{c1<c2} x_c1 x_c2 (w_{c1,f(c2)} . w_{c2,f(c1)})       <- what the dot product leaves out
 *   (libffm has no bias or linear terms, so there are none to leave out; see docs/ffm.md)
 */
import { auc } from '../metrics.js';
import { fieldIndex, type FfmData } from './data.js';
import { FfmError } from './errors.js';
import { fieldVectors, meanLogLoss, predictLogits, type FfmModel } from './model.js';

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

/** v_u . v_p for every row (0 for a row without a user or post entry). */
export function dotScores(model: FfmModel, data: FfmData, userField = 'user', postField = 'post'): Float32Array {
  const uf = fieldIndex(data.space, userField);
  const pf = fieldIndex(data.space, postField);
  const { weights: W, params } = model;
  const k = params.k;
  const m = model.space.fields.length;
  const out = new Float32Array(data.rows);
  for (let i = 0; i < data.rows; i++) {
    let u = -1, p = -1;
    for (let a = data.offsets[i]; a < data.offsets[i + 1]; a++) {
      if (data.fields[a] === uf) u = data.features[a];
      else if (data.fields[a] === pf) p = data.features[a];
    }
    if (u < 0 || p < 0) continue;
    const wu = (u * m + pf) * 2 * k;
    const wp = (p * m + uf) * 2 * k;
    let dot = 0;
    for (let d = 0; d < k; d++) dot += W[wu + d] * W[wp + d];
    out[i] = dot;
  }
  return out;
}

export interface EmbeddingAuc {
  rows: number;
  positives: number;
  /** AUC of the full FFM logit phi(x). */
  aucFull: number;
  /** AUC of v_u . v_p alone (the score MEMER's predicted embeddings are used with). */
  aucDot: number;
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
    logLoss: meanLogLoss(model.weights, data, model.params),
  };
}
