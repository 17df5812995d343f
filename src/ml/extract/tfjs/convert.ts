/**
 * TF.js model -> ONNX, on the project's graph writer (src/ml/graph): decode the weights (float32, int32, and uint8 /
 * uint16 / float16 quantized), build an IR graph from the topology (layers-model.ts for Keras layers models,
 * graph-model.ts for TensorFlow graph models), and emit the nodes the requested outputs need as ONNX (opset 17),
 * weights as initializers. Inputs and outputs keep TensorFlow's NHWC order, so a caller feeds the same tensors it
 * would feed tfjs.
 */
import { toOnnx } from '../../graph/onnx.js';
import type { Dim } from '../../graph/shape.js';
import type { TfjsArtifacts, TfjsFormat } from './artifacts.js';
import { graphModelToGraph } from './graph-model.js';
import { layersModelToGraph } from './layers-model.js';
import { decodeWeights } from './weights.js';

/** Bumped whenever the ONNX the converter writes for a given model changes (it keys cached conversions). */
export const CONVERTER_VERSION = 1;

export interface TfjsConvertOptions {
  /**
   * What to output: layer names (layers model) or node names (graph model); default: the model's own outputs. Name an
   * inner layer to cut the network there (e.g. the pooled features before a classifier head).
   */
  outputs?: readonly string[];
  /** The input's dims after the batch axis, for a model that leaves them open. */
  inputShape?: readonly number[];
  /** ONNX graph name and metadata_props. */
  graphName?: string;
  metadata?: Readonly<Record<string, string>>;
}

export interface IoInfo {
  name: string;
  /** TensorFlow order (NHWC for images); 'N' is the batch dim */
  shape: Dim[];
}

export interface ConvertedModel {
  onnx: Uint8Array;
  format: TfjsFormat;
  inputs: IoInfo[];
  outputs: IoInfo[];
  /** IR nodes written (before onnxruntime's own fusions), for diagnostics */
  nodes: number;
}

export function convertTfjsModel(artifacts: TfjsArtifacts, opts: TfjsConvertOptions = {}): ConvertedModel {
  const weights = decodeWeights(artifacts.weightSpecs, artifacts.weightData);
  const built = artifacts.format === 'layers-model'
    ? layersModelToGraph(artifacts.modelTopology, weights, opts)
    : graphModelToGraph(artifacts.modelTopology, weights, opts);
  const g = built.graph;
  const onnx = toOnnx(g, {
    outputs: built.outputs,
    params: 'initializers',
    graphName: opts.graphName ?? 'tfjs',
    metadata: { 'memer.converter': 'tfjs', 'tfjs.format': artifacts.format, ...opts.metadata },
  });
  const info = (name: string, id: number): IoInfo => ({ name, shape: [...g.values[id].shape] });
  return {
    onnx,
    format: artifacts.format,
    inputs: built.inputs.map((n) => info(n, g.valueByName(n).id)),
    outputs: built.outputs.map((n) => info(n, g.outputs.get(n)!)),
    nodes: g.needed(built.outputs.map((n) => g.outputs.get(n)!)).length,
  };
}
