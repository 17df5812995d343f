/**
 * The MEMER model (paper eq. 1-12), defined once as an IR graph. The training step, the validation pass and the
 * exported inference model are all derived from this one graph (see trainer.ts and export.ts).
 *
 * Glossary (per item i in a batch of N; d, F, H_e, L, H_d as in config.ts)
 *   x_m          raw features of modality m [N, dim_m]; rows of a missing modality are zeros
 *   p_m          presence of modality m (1 / 0), input `presence` [N, M]
 *   x~_m         p_m * (x_m - mu_m) * s_m, normalised with statistics learned from the training items
 *   feat         sigma(W (x~_1 (+) ... (+) x~_M (+) p) + b)                     eq. 5, early fusion by concatenation
 *                computed blockwise: sum_m x_m @ (s_m * W_m) + p @ (W_p - C) + b, where row m of C is (mu_m s_m) @ W_m;
 *                this is the same linear map (normalisation folded into the weights), without materialising the
 *                normalised [N, sum dim_m] matrix
 *   enc(u)       h = relu(u W_h + b_h);  mu = h W_mu + b_mu;  lv = h W_lv + b_lv   (log-variance head as in CVAR [19])
 *   e1 = enc1(v), e2 = enc2(feat)                                               eq. 1-2
 *   z_k          mu_k + exp(lv_k / 2) * eps_k in training (eps_k ~ N(0, I), fed); mu_k at inference
 *   dec(z, freq) relu([z, freq] W_1 + b_1) W_2 + b_2  -> R^d                     eq. 3-4
 *   p_recon = dec(z1, freq), p_rec = dec(z2, freq), embedding = dec(mu2, freq)   eq. 12
 *   L_w          mean_i sum_j (mu1 - mu2)^2 + (sigma1 - sigma2)^2: the squared 2-Wasserstein distance between the
 *                diagonal Gaussians N(mu1, sigma1^2) and N(mu2, sigma2^2) (closed form, as CVAR implements it)
 *   L_recon      mean_i sum_j (p_recon - v)^2                                   eq. 7
 *   S            p_rec . v_user;  L_rec = mean_i softplus(S) - y S  (= BCE(sigmoid(S), y), stable)   eq. 8-10
 *   loss         alpha L_w + beta L_recon + gamma L_rec                          eq. 11
 *   prior        with architecture.prior != 'none' (prior.ts): every decoder output is prior + dec(z, freq), with
 *                prior = tags @ table (input `tags` [N, T+1], constant table [T+1, d]) or the constant global average;
 *                dec1.out starts at W = residualInit x its Glorot draw (default 0), b = 0: at 0 the untrained model
 *                outputs the prior
 */
import { Graph, type Tensor } from '../graph/ir.js';
import { Rng } from '../graph/rng.js';
import type { MemerConfig } from './config.js';
import type { ModalityStats } from './features.js';
import { hasTagInput, type Prior } from './prior.js';
import type { Modality } from '../../datasets/types.js';

/** Graph input names. */
export const INPUT = {
  presence: 'presence',
  freq: 'freq',
  itemEmbedding: 'v_item',
  userEmbedding: 'v_user',
  label: 'label',
  eps1: 'eps1',
  eps2: 'eps2',
  /** tag weights [N, T+1] of a tag-average prior (prior.ts) */
  tags: 'tags',
  /** [d, N]: the batch's user embeddings transposed (loss.recommendation 'softmax': every user against every post) */
  userEmbeddingT: 'v_user_t',
  /** [N]: 1 when the sample's post has a mature target, 0 for an early post (L_w and L_recon skip it); training only */
  targetWeight: 'target_weight',
  modality: (m: Modality) => m,
} as const;

/** Graph output names. */
export const OUTPUT = {
  embedding: 'embedding',
  loss: 'loss',
  wasserstein: 'l_w',
  reconstruction: 'l_recon',
  recommendation: 'l_rec',
  score: 'score',
} as const;

export const LOSS_METRICS = [OUTPUT.wasserstein, OUTPUT.reconstruction, OUTPUT.recommendation] as const;

export type StatsByModality = Partial<Record<Modality, ModalityStats>>;

export interface MemerGraph {
  graph: Graph;
  /** names of the per-batch data inputs the training step needs */
  trainInputs: string[];
  /** names of the inputs of the exported inference model */
  inferenceInputs: string[];
}

function glorot(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return rng.fillUniform(new Float32Array(fanIn * fanOut), -a, a);
}

/**
 * Build the MEMER graph for `config`, with normalisation `stats` (one entry per configured modality) and, when
 * `config.architecture.prior` is not 'none', the fitted `prior` (prior.ts).
 */
/**
 * `withTargetWeight`: the training graph has the `target_weight` input, which scales each sample's L_w and L_recon (an
 * early post's backbone vector is no target yet; its interactions still train L_rec).
 */
export function buildMemerGraph(config: MemerConfig, stats: StatsByModality, prior?: Prior, withTargetWeight = false): MemerGraph {
  const arch = config.architecture;
  if (arch.prior !== 'none' && !prior) throw new Error(`architecture.prior ${arch.prior} needs a fitted prior`);
  if (arch.prior === 'none' && prior) throw new Error('a prior was given but architecture.prior is none');
  if (prior && prior.d !== arch.embeddingDim) throw new Error(`prior has d = ${prior.d}, the model ${arch.embeddingDim}`);
  const { alpha, beta, gamma } = config.loss;
  const rng = new Rng(config.training.seed);
  const g = new Graph();
  const d = arch.embeddingDim;
  const M = arch.modalities.length;
  const F = arch.semanticDim;
  const fusedIn = arch.modalities.reduce((s, m) => s + m.dim, 0) + M;

  const linearParams = (name: string, fanIn: number, fanOut: number, bias = 0) => ({
    w: g.param(`${name}.W`, [fanIn, fanOut], glorot(rng, fanIn, fanOut)),
    b: g.param(`${name}.b`, [fanOut], new Float32Array(fanOut).fill(bias)),
  });

  // Semantic module (eq. 5).
  const terms: Tensor[] = [];
  const corrections: Tensor[] = [];
  const inputs = new Map<string, Tensor>();
  for (const spec of arch.modalities) {
    const s = stats[spec.modality];
    if (!s || s.mean.length !== spec.dim) throw new Error(`normalisation statistics for ${spec.modality} (dim ${spec.dim}) missing`);
    const x = g.input(INPUT.modality(spec.modality), ['N', spec.dim]);
    const a = Math.sqrt(6 / (fusedIn + F));
    const w = g.param(`semantic.W.${spec.modality}`, [spec.dim, F], rng.fillUniform(new Float32Array(spec.dim * F), -a, a));
    const scale = g.constant(Float32Array.from(s.scale), [spec.dim, 1], `norm.scale.${spec.modality}`);
    const meanScaled = g.constant(s.mean.map((m, j) => m * s.scale[j]), [1, spec.dim], `norm.meanScaled.${spec.modality}`);
    terms.push(g.matmul(x, g.mul(w, scale)));
    corrections.push(g.matmul(meanScaled, w));
    inputs.set(spec.modality, x);
  }
  const presence = g.input(INPUT.presence, ['N', M]);
  const semantic = linearParams('semantic.presence', M, F);
  const presenceW = g.sub(semantic.w, corrections.length === 1 ? corrections[0] : g.concat(corrections, 0));
  let pre = g.add(g.matmul(presence, presenceW), semantic.b);
  for (const t of terms) pre = g.add(t, pre);
  const feat = g.sigmoid(pre, 'feat');

  // Encoders (eq. 1-2): shared hidden layer, mean and log-variance heads.
  const encoder = (name: string, u: Tensor, fanIn: number) => {
    const h = linearParams(`${name}.hidden`, fanIn, arch.encoderHidden);
    const mu = linearParams(`${name}.mu`, arch.encoderHidden, arch.latentDim);
    const lv = linearParams(`${name}.logvar`, arch.encoderHidden, arch.latentDim, arch.initialLogVar);
    const hidden = g.relu(g.linear(u, h.w, h.b));
    return { mu: g.linear(hidden, mu.w, mu.b), logVar: g.linear(hidden, lv.w, lv.b) };
  };
  const vItem = g.input(INPUT.itemEmbedding, ['N', d]);
  const e1 = encoder('enc1', vItem, d);
  const e2 = encoder('enc2', feat, F);
  const sigma1 = g.exp(g.mul(e1.logVar, 0.5));
  const sigma2 = g.exp(g.mul(e2.logVar, 0.5));

  // Decoder (eq. 3-4, 12).
  const freq = g.input(INPUT.freq, ['N', 1]);
  const dec1 = linearParams('dec1.hidden', arch.latentDim + 1, arch.decoderHidden);
  const dec2 = linearParams('dec1.out', arch.decoderHidden, d);
  let priorT: Tensor | undefined;
  const withTags = hasTagInput(prior);
  if (prior) {
    // The residual starts at residualInit x its usual init (0: exactly the prior); the random draw above is kept, so
    // the other params' init does not depend on the prior.
    const w2 = g.params.find((p) => p.id === dec2.w.id)!.init;
    for (let k = 0; k < w2.length; k++) w2[k] *= arch.residualInit;
    const T = prior.tags.length;
    const table = g.constant(Float32Array.from(prior.table), [T + 1, d], 'prior.table');
    const linear = prior.linear;
    if (linear) {
      // A linear prior (prior.ts): c + sum_m raw_m A_m + presence B, constants of the graph.
      if (linear.modalities.join() !== arch.modalities.map((m) => m.modality).join()) throw new Error(`the linear prior is on ${linear.modalities.join('+')}, the model on ${arch.modalities.map((m) => m.modality).join('+')}`);
      // The constant part: c alone, or c plus the mean of the post's tag rows (prior.ts) through the `tags` input.
      const constant = withTags ? g.matmul(g.input(INPUT.tags, ['N', T + 1]), table) : table;
      let sum = g.add(constant, g.matmul(presence, g.constant(Float32Array.from(linear.presence), [M, d], 'prior.presence')));
      arch.modalities.forEach((spec, k) => {
        sum = g.add(sum, g.matmul(inputs.get(spec.modality)!, g.constant(Float32Array.from(linear.weights[k]), [spec.dim, d], `prior.W.${spec.modality}`)));
      });
      priorT = g.identity(sum, 'prior');
    } else priorT = withTags ? g.matmul(g.input(INPUT.tags, ['N', T + 1]), table, 'prior') : g.identity(table, 'prior');
  }
  const decode = (z: Tensor, name?: string) => {
    const h = g.relu(g.linear(g.concat([z, freq], 1), dec1.w, dec1.b));
    return priorT ? g.add(priorT, g.linear(h, dec2.w, dec2.b), name) : g.linear(h, dec2.w, dec2.b, name);
  };

  let z1 = e1.mu;
  let z2 = e2.mu;
  const contentInputs = [...arch.modalities.map((m) => INPUT.modality(m.modality)), INPUT.presence, INPUT.freq, ...(withTags ? [INPUT.tags] : [])];
  const trainInputs: string[] = [...contentInputs, INPUT.itemEmbedding, INPUT.userEmbedding, INPUT.label, ...(withTargetWeight ? [INPUT.targetWeight] : [])];
  if (arch.sampleLatent) {
    z1 = g.add(e1.mu, g.mul(sigma1, g.input(INPUT.eps1, ['N', arch.latentDim])));
    z2 = g.add(e2.mu, g.mul(sigma2, g.input(INPUT.eps2, ['N', arch.latentDim])));
    trainInputs.push(INPUT.eps1, INPUT.eps2);
  }
  const pRecon = decode(z1);
  const pRec = decode(z2);
  g.output(OUTPUT.embedding, decode(e2.mu, OUTPUT.embedding));

  // Losses (eq. 6-11).
  const sq = (t: Tensor) => g.mul(t, t);
  const rowSum = (t: Tensor) => g.reduceSum(t, [1]);
  const weight = withTargetWeight ? g.input(INPUT.targetWeight, ['N']) : undefined;
  const weighted = (t: Tensor) => (weight ? g.mul(t, weight) : t);
  const lw = g.reduceMean(weighted(rowSum(g.add(sq(g.sub(e1.mu, e2.mu)), sq(g.sub(sigma1, sigma2))))), [0], false, OUTPUT.wasserstein);
  const lRecon = g.reduceMean(weighted(rowSum(sq(g.sub(pRecon, vItem)))), [0], false, OUTPUT.reconstruction);
  const vUser = g.input(INPUT.userEmbedding, ['N', d]);
  const label = g.input(INPUT.label, ['N']);
  const score = rowSum(g.mul(pRec, vUser));
  let lRec: Tensor;
  if (config.loss.recommendation === 'softmax') {
    // In-batch softmax (beyond the paper): for the user of each positive sample c, its post against every post of the
    // batch, -log(exp(S_cc) / sum_b exp(S_bc)) with S_bc = p_rec(b) . v_user(c), averaged over the positives. The
    // rows are posts and the columns users, so the sum runs over axis 0 and no transpose of p_rec is needed.
    const st = g.matmul(pRec, g.input(INPUT.userEmbeddingT, [d, 'N']));
    const lse = g.log(g.reduceSum(g.exp(st), [0]));
    lRec = g.div(g.reduceSum(g.mul(label, g.sub(lse, score)), [0]), g.add(g.reduceSum(label, [0]), 1e-6), OUTPUT.recommendation);
    trainInputs.push(INPUT.userEmbeddingT);
  } else lRec = g.reduceMean(g.sub(g.softplus(score), g.mul(label, score)), [0], false, OUTPUT.recommendation);
  const loss = g.add(g.add(g.mul(lw, alpha), g.mul(lRecon, beta)), g.mul(lRec, gamma), OUTPUT.loss);
  for (const [name, t] of [[OUTPUT.wasserstein, lw], [OUTPUT.reconstruction, lRecon], [OUTPUT.recommendation, lRec], [OUTPUT.loss, loss]] as const) g.output(name, t);
  g.output(OUTPUT.score, g.identity(score, OUTPUT.score));

  const inferenceInputs = [...contentInputs];
  return { graph: g, trainInputs, inferenceInputs };
}
