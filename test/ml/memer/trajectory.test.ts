/**
 * The ONNX training step (forward + backward + Adam in one run) follows the Float32Array reference trajectory:
 * 6 steps on different batches with latent noise; after every step each weight and Adam moment agrees within
 * atol 1e-6 + rtol 1e-4 (observed: within 1e-7 + 1e-5; float32 summation order differs between ORT and the reference).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMemerGraph, OUTPUT } from '../../../src/ml/memer/model.js';
import { TrainingEngine } from '../../../src/ml/memer/engine.js';
import { evaluate } from '../../../src/ml/graph/reference.js';
import { referenceAdamStep, referenceGradients } from '../../../src/ml/graph/reference-grad.js';
import { closeness, runtime, toFeeds } from '../graph/helpers.js';
import { statsFor, tinyBatch, tinyConfig, tinyData } from './fixtures.js';

for (const weightDecay of [0, 0.01]) {
  test(`ONNX training run matches the reference trajectory over 6 Adam steps (weight decay ${weightDecay})`, async () => {
    const data = tinyData();
    const base = tinyConfig();
    const config = { ...base, training: { ...base.training, adam: { ...base.training.adam, lr: 1e-2, weightDecay } } };
    const model = buildMemerGraph(config, statsFor(data, config));
    const g = model.graph;
    const engine = await TrainingEngine.create(runtime, model, config.training.adam);
    const w = new Map(g.params.map((p) => [p.name, Float32Array.from(p.init)]));
    const m = new Map(g.params.map((p) => [p.name, new Float32Array(p.init.length)]));
    const v = new Map(g.params.map((p) => [p.name, new Float32Array(p.init.length)]));
    for (let t = 1; t <= 6; t++) {
      const batch = tinyBatch(data, config, 16, (t - 1) * 16, 100 + t);
      const values = evaluate(g, batch, [OUTPUT.loss], w);
      const refLoss = values.get(g.outputs.get(OUTPUT.loss)!)!.data[0];
      const grads = referenceGradients(g, values, OUTPUT.loss, g.params.map((p) => p.id));
      for (const p of g.params) referenceAdamStep(w.get(p.name)!, grads.get(p.id)!.data, m.get(p.name)!, v.get(p.name)!, config.training.adam, t);
      const step = await engine.step(toFeeds(batch));
      assert.ok(Math.abs(step.loss - refLoss) <= 1e-5 * (1 + Math.abs(refLoss)), `step ${t}: loss ${step.loss} vs ${refLoss}`);
      const onnxW = engine.weights();
      for (const p of g.params) {
        const c = closeness(onnxW.get(p.name)!, w.get(p.name)!, 1e-6, 1e-4);
        assert.ok(c.worst <= 1, `step ${t} ${p.name}[${c.at}]: ${onnxW.get(p.name)![c.at]} vs ${w.get(p.name)![c.at]}`);
        const mom = engine.moments(p.name);
        assert.ok(closeness(mom.m, m.get(p.name)!, 1e-6, 1e-3).worst <= 1, `step ${t} ${p.name}: first moment`);
        assert.ok(closeness(mom.v, v.get(p.name)!, 1e-9, 1e-3).worst <= 1, `step ${t} ${p.name}: second moment`);
      }
    }
    // The weights moved: the comparison above is not between two unchanged copies.
    const moved = g.params.some((p) => closeness(engine.weights().get(p.name)!, p.init, 1e-4, 0).worst > 1);
    assert.ok(moved, 'training should change the weights');
    await engine.dispose();
  });
}
