/**
 * TensorFlow.js (the pure-JS CPU backend, a devDependency) as the reference the converter is checked against: model
 * artifacts to and from memory (no files, no HTTP), ONNX runs of converted models, and difference measures.
 */
import * as tf from '@tensorflow/tfjs';
import type { TfjsArtifacts } from '../../../src/ml/extract/tfjs/artifacts.js';
import type { WeightSpec } from '../../../src/ml/extract/tfjs/weights.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';

// PROD silences tfjs's "install tfjs-node" banner; it changes no arithmetic.
tf.env().set('PROD', true);
export { tf };

export const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });

/** The artifacts a tfjs layers model saves (what model.json + shards would hold). */
export async function artifactsOf(model: tf.LayersModel): Promise<TfjsArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const data = saved!.weightData as ArrayBuffer;
  return { format: 'layers-model', modelTopology: saved!.modelTopology as Record<string, unknown>, weightSpecs: saved!.weightSpecs as WeightSpec[], weightData: new Uint8Array(data) };
}

export function handlerOf(a: TfjsArtifacts): tf.io.IOHandler {
  const weightData = a.weightData.slice().buffer;
  return tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[], weightData, format: a.format });
}

/** Run a converted model on one NHWC input; outputs by name. */
export async function runOnnx(onnx: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>, label = 'converted'): Promise<Record<string, Float32Array>> {
  const session = await runtime.createSession(onnx, label);
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data]));
  } finally {
    await session.dispose();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
