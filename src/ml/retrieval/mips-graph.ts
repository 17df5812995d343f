/**
 * The ONNX graph of exact maximum-inner-product top-k: scores = Q @ Xᵀ (+ bias), then TopK along the item axis.
 * Written with onnx-proto directly because the project's IR (src/ml/graph) has no TopK or Cast.
 *
 * Glossary
 *   Q      queries [B, d] (graph input "queries")
 *   X      item matrix [N, d]: a graph input "items" (fed by reference each run) or a frozen initializer
 *   bias   optional additive mask [N]: 0 keeps an item, -Infinity drops it (graph input "bias")
 *   k      how many to return, fed as a float [1] (OnnxRuntime's Session takes float32 feeds only) and cast to int64
 *   rows   TopK's int64 indices cast to float32 (Session reads float32 outputs only): exact below 2^24 items
 *
 * Outputs: "scores" [B, k] (descending) and "rows" [B, k]. ONNX TopK puts the lower index first among equal values,
 * the same tie rule as topk.ts.
 */
import onnxProto from 'onnx-proto';
import { ONNX_IR_VERSION, valueInfo } from '../graph/onnx.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT = onnx.AttributeProto.AttributeType.INT;

/** Largest item count whose row indices survive the float32 cast exactly. */
export const MAX_ORT_ROWS = 2 ** 24;

export interface MipsGraphOptions {
  dim: number;
  /** feed an additive [N] bias (the masked variant) */
  masked: boolean;
  /** freeze this [N, d] matrix into the model as an initializer; omitted = the matrix is the graph input "items" */
  frozen?: { data: Float32Array; rows: number };
}

export function mipsTopKModel(o: MipsGraphOptions): Uint8Array {
  const n: number | string = o.frozen ? o.frozen.rows : 'N';
  const inputs = [valueInfo('queries', ['B', o.dim]), valueInfo('k', [1])];
  const initializer: onnxProto.onnx.ITensorProto[] = [];
  if (o.frozen) {
    const d = o.frozen.data;
    if (d.length !== o.frozen.rows * o.dim) throw new RangeError(`frozen matrix has ${d.length} values, expected ${o.frozen.rows} x ${o.dim}`);
    initializer.push({ name: 'items', dataType: FLOAT, dims: [o.frozen.rows, o.dim], rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  } else inputs.push(valueInfo('items', [n, o.dim]));
  if (o.masked) inputs.push(valueInfo('bias', [n]));
  const node: onnxProto.onnx.INodeProto[] = [
    { opType: 'Gemm', input: ['queries', 'items'], output: ['dots'], name: 'dots', attribute: [{ name: 'transB', type: INT, i: 1 }] },
  ];
  if (o.masked) node.push({ opType: 'Add', input: ['dots', 'bias'], output: ['masked'], name: 'masked' });
  node.push(
    { opType: 'Cast', input: ['k'], output: ['k64'], name: 'k64', attribute: [{ name: 'to', type: INT, i: INT64 }] },
    {
      opType: 'TopK', input: [o.masked ? 'masked' : 'dots', 'k64'], output: ['scores', 'rows64'], name: 'topk',
      attribute: [{ name: 'axis', type: INT, i: -1 }, { name: 'largest', type: INT, i: 1 }, { name: 'sorted', type: INT, i: 1 }],
    },
    { opType: 'Cast', input: ['rows64'], output: ['rows'], name: 'rows', attribute: [{ name: 'to', type: INT, i: FLOAT }] },
  );
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'memer',
    producerVersion: '1',
    graph: { name: 'mips_topk', node, initializer, input: inputs, output: [valueInfo('scores', ['B', 'K']), valueInfo('rows', ['B', 'K'])] },
    metadataProps: [{ key: 'purpose', value: o.masked ? 'mips-topk-masked' : 'mips-topk' }],
  });
  return onnx.ModelProto.encode(model).finish();
}
