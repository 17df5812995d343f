/**
 * The MEMER graph against its spec (eq. 5-11) and the reference:
 * - the folded normalisation equals the explicit early fusion sigma(W (x~ (+) p) + b) (1e-5);
 * - the loss equals a direct Float32Array computation of eq. 6-11 (1e-5 relative);
 * - gradients of the full loss: ONNX vs reference (atol 1e-5 + rtol 1e-3), reference vs finite differences
 *   (h = 3e-4: a ReLU pre-activation of this fixture lies within 1e-3 of its kink; float32 rounding of a loss ~2 gives
 *   FD noise ~1e-3, hence atol 3e-3 + rtol 2e-2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMemerGraph, OUTPUT, INPUT } from '../../../src/ml/memer/model.js';
import { evaluate, sigmoidRef, softplusRef, type RefTensor } from '../../../src/ml/graph/reference.js';
import { BatchAssembler } from '../../../src/ml/memer/data.js';
import { closeness, finiteDifferences, onnxGradients, referenceLossAndGrads } from '../graph/helpers.js';
import { statsFor, tinyBatch, tinyConfig, tinyData, TINY_MODALITIES } from './fixtures.js';

test('semantic module: folded normalisation equals explicit early fusion, missing modalities contribute only their presence bit', () => {
  const data = tinyData();
  const config = tinyConfig();
  const stats = statsFor(data, config);
  const { graph: g } = buildMemerGraph(config, stats);
  g.output('feat_out', g.valueByName('feat'));
  const n = 12;
  const feeds = tinyBatch(data, config, n);
  const presence = feeds[INPUT.presence].data;
  assert.ok(presence.includes(0), 'fixture should contain a missing modality');
  const feat = evaluate(g, feeds, ['feat_out']).get(g.outputs.get('feat_out')!)!.data;
  const F = config.architecture.semanticDim;
  const M = TINY_MODALITIES.length;
  const W = (name: string) => g.params.find((p) => p.name === name)!.init;
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) {
      let s = W('semantic.presence.b')[f];
      TINY_MODALITIES.forEach((spec, m) => {
        const p = presence[i * M + m];
        const st = stats[spec.modality]!;
        for (let j = 0; j < spec.dim; j++) {
          const x = feeds[spec.modality].data[i * spec.dim + j];
          const xt = p * (x - st.mean[j]) * st.scale[j];
          s += xt * W(`semantic.W.${spec.modality}`)[j * F + f];
        }
        s += p * W('semantic.presence.W')[m * F + f];
      });
      assert.ok(Math.abs(sigmoidRef(s) - feat[i * F + f]) <= 1e-5, `feat[${i},${f}] ${feat[i * F + f]} vs ${sigmoidRef(s)}`);
    }
  }
});

test('loss terms equal eq. 6-11 computed directly from the graph intermediates', () => {
  const data = tinyData();
  const config = tinyConfig({ sampleLatent: false });
  const { graph: g } = buildMemerGraph(config, statsFor(data, config));
  const n = 9;
  const feeds = tinyBatch(data, config, n);
  const values = evaluate(g, feeds, [OUTPUT.loss, OUTPUT.wasserstein, OUTPUT.reconstruction, OUTPUT.recommendation, OUTPUT.score, OUTPUT.embedding]);
  const out = (name: string) => values.get(g.outputs.get(name)!)!.data;
  const d = config.architecture.embeddingDim;
  // With z = mu (no sampling) p_rec is the exported embedding, so S = embedding . v_user.
  const emb = out(OUTPUT.embedding);
  let lrec = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += emb[i * d + j] * feeds[INPUT.userEmbedding].data[i * d + j];
    assert.ok(Math.abs(s - out(OUTPUT.score)[i]) <= 1e-5 * (1 + Math.abs(s)));
    const y = feeds[INPUT.label].data[i];
    lrec += -(y * Math.log(sigmoidRef(s)) + (1 - y) * Math.log(1 - sigmoidRef(s)));
    assert.ok(Math.abs(softplusRef(s) - y * s - -(y * Math.log(sigmoidRef(s)) + (1 - y) * Math.log(1 - sigmoidRef(s)))) < 1e-6);
  }
  lrec /= n;
  assert.ok(Math.abs(lrec - out(OUTPUT.recommendation)[0]) <= 1e-5 * (1 + lrec), `L_rec ${out(OUTPUT.recommendation)[0]} vs ${lrec}`);
  const { alpha, beta, gamma } = config.loss;
  const total = alpha * out(OUTPUT.wasserstein)[0] + beta * out(OUTPUT.reconstruction)[0] + gamma * out(OUTPUT.recommendation)[0];
  assert.ok(Math.abs(total - out(OUTPUT.loss)[0]) <= 1e-5 * (1 + total));
  assert.ok(out(OUTPUT.wasserstein)[0] > 0 && out(OUTPUT.reconstruction)[0] > 0);
});

test('full MEMER loss: ONNX gradients = reference gradients = finite differences, for every parameter', async () => {
  const data = tinyData();
  const config = tinyConfig();
  const { graph: g } = buildMemerGraph(config, statsFor(data, config));
  const feeds = tinyBatch(data, config, 10, 0, 5);
  const ref = referenceLossAndGrads(g, OUTPUT.loss, feeds);
  const ox = await onnxGradients(g, OUTPUT.loss, feeds);
  assert.ok(Math.abs(ox.loss - ref.loss) <= 1e-5 * (1 + Math.abs(ref.loss)), `loss ${ox.loss} vs ${ref.loss}`);
  for (const p of g.params) {
    const a = ox.grads.get(p.name)!;
    const b = ref.grads.get(p.name)!;
    const gc = closeness(a, b, 1e-5, 1e-3);
    assert.ok(gc.worst <= 1, `${p.name}: ONNX ${a[gc.at]} vs reference ${b[gc.at]} at ${gc.at}`);
    const fd = finiteDifferences(g, OUTPUT.loss, feeds, p.name, 3e-4);
    const fc = closeness(b, fd, 3e-3, 2e-2);
    assert.ok(fc.worst <= 1, `${p.name}: reference ${b[fc.at]} vs finite difference ${fd[fc.at]} at ${fc.at}`);
  }
});

test('in-batch softmax L_rec and target weights: equal to a direct computation, gradients = reference = finite differences', async () => {
  const base = tinyData();
  const data = { ...base, items: { ...base.items, targetWeight: Float32Array.from({ length: base.items.count }, (_, i) => (i % 3 === 0 ? 0 : 1)) } };
  const c0 = tinyConfig({ sampleLatent: false });
  const config = { ...c0, loss: { ...c0.loss, recommendation: 'softmax' as const } };
  const { graph: g } = buildMemerGraph(config, statsFor(data, config), undefined, true);
  const n = 10;
  const a = config.architecture;
  const asm = new BatchAssembler(data, a.modalities, a.embeddingDim, a.latentDim, n, a.sampleLatent, { usersTransposed: true });
  const raw = asm.fill(Int32Array.from({ length: data.samples.length }, (_, i) => i), 0, n);
  const feeds: Record<string, RefTensor> = {};
  for (const [k, v] of Object.entries(raw)) feeds[k] = { data: Float32Array.from(v.data), shape: [...v.dims] };
  const values = evaluate(g, feeds, [OUTPUT.recommendation, OUTPUT.reconstruction, OUTPUT.embedding]);
  const out = (name: string) => values.get(g.outputs.get(name)!)!.data;
  const d = a.embeddingDim;
  const emb = out(OUTPUT.embedding); // p_rec at z = mu
  const u = feeds[INPUT.userEmbedding].data;
  const y = feeds[INPUT.label].data;
  let num = 0;
  let den = 0;
  for (let c = 0; c < n; c++) {
    const s = (b: number) => { let x = 0; for (let j = 0; j < d; j++) x += emb[b * d + j] * u[c * d + j]; return x; };
    let z = 0;
    for (let b = 0; b < n; b++) z += Math.exp(s(b));
    num += y[c] * (Math.log(z) - s(c));
    den += y[c];
  }
  assert.ok(den > 0 && den < n, 'the batch has positives and negatives');
  assert.ok(Math.abs(out(OUTPUT.recommendation)[0] - num / den) <= 1e-5 * (1 + num / den), `softmax L_rec ${out(OUTPUT.recommendation)[0]} vs ${num / den}`);
  // Target weights: a post without a target adds nothing to L_recon.
  const w = feeds[INPUT.targetWeight].data;
  assert.ok(w.includes(0) && w.includes(1));
  const ref = referenceLossAndGrads(g, OUTPUT.loss, feeds);
  const ox = await onnxGradients(g, OUTPUT.loss, feeds);
  assert.ok(Math.abs(ox.loss - ref.loss) <= 1e-5 * (1 + Math.abs(ref.loss)), `loss ${ox.loss} vs ${ref.loss}`);
  for (const p of g.params) {
    const gc = closeness(ox.grads.get(p.name)!, ref.grads.get(p.name)!, 1e-5, 1e-3);
    assert.ok(gc.worst <= 1, `${p.name}: ONNX vs reference at ${gc.at}`);
    const fd = finiteDifferences(g, OUTPUT.loss, feeds, p.name, 3e-4);
    const fc = closeness(ref.grads.get(p.name)!, fd, 3e-3, 2e-2);
    assert.ok(fc.worst <= 1, `${p.name}: reference ${ref.grads.get(p.name)![fc.at]} vs finite difference ${fd[fc.at]} at ${fc.at}`);
  }
});
