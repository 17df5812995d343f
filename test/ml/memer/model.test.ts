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
import { evaluate, sigmoidRef, softplusRef } from '../../../src/ml/graph/reference.js';
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
