/**
 * The converter on the real pretrained networks nsfwjs ships, against TensorFlow.js running the same artifacts:
 * MobileNetV2 (Keras layers model, the default visual extractor) on four images, both the pooled penultimate features
 * (flatten_1, 1280-d) and the classifier's probabilities (dense_3), and MobileNetV2 Mid (a TF graph model) on one.
 * Inputs are preprocessed as nsfwjs does (uint8 / 255). Tolerances: features within 1e-3 of their largest magnitude
 * (measured about 2e-6 of it), probabilities within 1e-4 (measured about 1e-6); the differences are float32 rounding
 * of the folded batch norms and of a different summation order.
 * tfjs's pure-JS backend takes ~2.5 s per 224x224 image, so the images are few.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNsfwjsModel } from '../../../src/ml/extract/nsfwjs-models.js';
import { convertTfjsModel } from '../../../src/ml/extract/tfjs/convert.js';
import { fixtures } from './visual-fixtures.js';
import { cosine, handlerOf, maxAbs, maxAbsDiff, runOnnx, tf } from './tfjs-reference.js';

const S = 224;

function batch(u8s: Uint8Array[]): { float: Float32Array; u8: Int32Array } {
  const float = new Float32Array(u8s.length * S * S * 3);
  const u8 = new Int32Array(float.length);
  u8s.forEach((img, k) => img.forEach((v, i) => {
    float[k * img.length + i] = v / 255;
    u8[k * img.length + i] = v;
  }));
  return { float, u8 };
}

/** nsfwjs's preprocessing in tfjs: int pixels to float, divided by 255. */
function nsfwjsInput(u8: Int32Array, n: number): tf.Tensor4D {
  return tf.tidy(() => tf.tensor4d(u8, [n, S, S, 3], 'int32').toFloat().div(255));
}

test('nsfwjs MobileNetV2 (layers model) converted to ONNX reproduces tfjs: pooled features and probabilities', async (t) => {
  const artifacts = loadNsfwjsModel('mobilenet_v2');
  const converted = convertTfjsModel(artifacts, { outputs: ['flatten_1', 'dense_3'] });
  assert.deepEqual(converted.inputs, [{ name: 'input_1', shape: ['N', S, S, 3] }]);
  assert.deepEqual(converted.outputs, [{ name: 'flatten_1', shape: ['N', 1280] }, { name: 'dense_3', shape: ['N', 5] }]);

  const images = await fixtures(['gradient+text', 'shapes', 'noise', 'real']);
  const n = images.length;
  const { float, u8 } = batch(images.map((f) => f.u8));
  const onnx = await runOnnx(converted.onnx, { input_1: { data: float, dims: [n, S, S, 3] } });

  const model = await tf.loadLayersModel(handlerOf(artifacts));
  const cut = tf.model({ inputs: model.inputs, outputs: [model.getLayer('flatten_1').output as tf.SymbolicTensor, model.outputs[0]] });
  const x = nsfwjsInput(u8, n);
  const [features, probs] = cut.predict(x) as tf.Tensor[];
  const refF = features.dataSync();
  const refP = probs.dataSync();
  tf.dispose([x, features, probs]);
  model.dispose();

  const dF = maxAbsDiff(onnx.flatten_1, refF);
  const mF = maxAbs(refF);
  const dP = maxAbsDiff(onnx.dense_3, refP);
  t.diagnostic(`${n} images (${images.map((f) => f.name).join(', ')}): max |ONNX - tfjs| features ${dF.toExponential(2)} (largest |feature| ${mF.toFixed(2)}), probabilities ${dP.toExponential(2)}`);
  assert.ok(dF <= 1e-3 * mF, `features differ by ${dF}`);
  assert.ok(dP <= 1e-4, `probabilities differ by ${dP}`);

  // Not a vacuous match: the features are non-trivial and tell the images apart.
  for (let a = 0; a < n; a++) {
    const fa = onnx.flatten_1.subarray(a * 1280, (a + 1) * 1280);
    assert.ok(maxAbs(fa) > 0.5, `image ${images[a].name} has near-zero features`);
    for (let b = a + 1; b < n; b++) {
      const c = cosine(fa, onnx.flatten_1.subarray(b * 1280, (b + 1) * 1280));
      assert.ok(c < 0.98, `${images[a].name} and ${images[b].name} have cosine ${c}`);
    }
    const p = onnx.dense_3.subarray(a * 5, (a + 1) * 5);
    assert.ok(Math.abs(p.reduce((s, v) => s + v, 0) - 1) < 1e-5);
  }
});

test('nsfwjs MobileNetV2 Mid (graph model) converted to ONNX reproduces tfjs: features and probabilities', async (t) => {
  const artifacts = loadNsfwjsModel('mobilenet_v2_mid');
  const feature = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze';
  const converted = convertTfjsModel(artifacts, { outputs: [feature, 'Identity'] });
  assert.deepEqual(converted.outputs.map((o) => o.shape), [['N', 1792], ['N', 5]]);

  const [image] = await fixtures(['shapes']);
  const { float, u8 } = batch([image.u8]);
  const onnx = await runOnnx(converted.onnx, { input: { data: float, dims: [1, S, S, 3] } });

  const model = await tf.loadGraphModel(handlerOf(artifacts));
  const x = nsfwjsInput(u8, 1);
  const [features, probs] = model.execute(x, [feature, 'Identity']) as tf.Tensor[];
  const refF = features.dataSync();
  const refP = probs.dataSync();
  tf.dispose([x, features, probs]);
  model.dispose();

  const dF = maxAbsDiff(onnx[feature], refF);
  const mF = maxAbs(refF);
  const dP = maxAbsDiff(onnx.Identity, refP);
  t.diagnostic(`max |ONNX - tfjs| features ${dF.toExponential(2)} (largest |feature| ${mF.toFixed(2)}), probabilities ${dP.toExponential(2)}`);
  assert.ok(dF <= 1e-3 * mF, `features differ by ${dF}`);
  assert.ok(dP <= 1e-4, `probabilities differ by ${dP}`);
});
