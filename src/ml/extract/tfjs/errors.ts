/** Typed errors of the TF.js-to-ONNX converter: callers switch on `code`, never on the message. */

export type TfjsConversionErrorCode =
  /** A layer class or graph op the converter has no rule for; `op` names it, `node` names the layer or node. */
  | 'UNSUPPORTED_OP'
  /** A supported op with a configuration the converter does not handle (channels_first, a shared layer, ...). */
  | 'UNSUPPORTED_CONFIG'
  /** The topology is malformed: a missing input, an unknown layer reference, a cycle, an unknown format. */
  | 'BAD_MODEL'
  /** A weight is missing, of the wrong shape or dtype, or the weight bytes do not match the manifest. */
  | 'BAD_WEIGHTS'
  /** A requested output names no layer or node of the model. */
  | 'UNKNOWN_OUTPUT';

export class TfjsConversionError extends Error {
  override readonly name = 'TfjsConversionError';
  constructor(
    readonly code: TfjsConversionErrorCode,
    message: string,
    /** The unsupported layer class or op type (UNSUPPORTED_OP, UNSUPPORTED_CONFIG). */
    readonly op?: string,
    /** The layer or node it was found in. */
    readonly node?: string,
  ) {
    super(message);
  }
}

export function unsupportedOp(op: string, node: string, format: string): TfjsConversionError {
  return new TfjsConversionError('UNSUPPORTED_OP', `${format}: ${node} is a ${op}, which the converter does not support`, op, node);
}

export function unsupportedConfig(op: string, node: string, what: string): TfjsConversionError {
  return new TfjsConversionError('UNSUPPORTED_CONFIG', `${op} ${node}: ${what} is not supported`, op, node);
}
