/**
 * A stand-in content extractor for tests and benchmarks (the paper's pretrained extractors cannot be downloaded
 * here): features = tanh(flatten(x) @ W + b), input "x" [N, ...step], output "features" [N, D]. Nonlinear, so the mean
 * of a clip's step features differs from the features of its mean step.
 */
import onnxProto from 'onnx-proto';
import { ONNX_IR_VERSION, valueInfo } from '../graph/onnx.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** `w` is [prod(step), D] row-major and `b` is [D]. */
export function tanhExtractorModel(step: readonly number[], w: Float32Array, b: Float32Array): Uint8Array {
  const inSize = step.reduce((a, c) => a * c, 1);
  const dim = b.length;
  if (w.length !== inSize * dim) throw new RangeError(`W has ${w.length} values, expected ${inSize} x ${dim}`);
  const init = (name: string, dims: number[], d: Float32Array) => ({ name, dataType: FLOAT, dims, rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'memer',
    graph: {
      name: 'tanh_extractor',
      node: [
        { opType: 'Flatten', input: ['x'], output: ['flat'], name: 'flat', attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        { opType: 'Gemm', input: ['flat', 'W', 'b'], output: ['pre'], name: 'gemm' },
        { opType: 'Tanh', input: ['pre'], output: ['features'], name: 'tanh' },
      ],
      initializer: [init('W', [inSize, dim], w), init('b', [dim], b)],
      input: [valueInfo('x', ['N', ...step])],
      output: [valueInfo('features', ['N', dim])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
