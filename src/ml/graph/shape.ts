/**
 * Static shapes with symbolic dimensions, as the graph builder tracks them.
 *
 * Glossary
 *   Dim      a dimension: a number, or a name such as 'N' (the batch size) that is only known at run time
 *   Shape    a list of Dims; [] is a scalar
 *   numpy broadcasting: shapes are right-aligned; two dims agree when equal or when one of them is 1
 */

export type Dim = number | string;
export type Shape = readonly Dim[];

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The numpy broadcast of two shapes; throws when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new Error(`cannot broadcast ${shapeToString(a)} with ${shapeToString(b)}`);
  }
  return out;
}

/**
 * How a gradient of shape `out` is summed back to an operand of shape `input` that was broadcast to `out`:
 * `leading` axes (absent from `input`) are summed away, `kept` axes (1 in `input`) are summed with keepdims.
 */
export function unbroadcastAxes(input: Shape, out: Shape): { leading: number[]; kept: number[] } {
  const lead = out.length - input.length;
  if (lead < 0) throw new Error(`operand ${shapeToString(input)} has more axes than ${shapeToString(out)}`);
  const leading = Array.from({ length: lead }, (_, i) => i);
  const kept: number[] = [];
  input.forEach((d, i) => {
    if (d === 1 && out[i + lead] !== 1) kept.push(i);
  });
  return { leading, kept };
}

/** Normalise possibly negative axes against a rank; throws when out of range. */
export function normaliseAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => {
    const r = a < 0 ? a + rank : a;
    if (r < 0 || r >= rank) throw new Error(`axis ${a} out of range for rank ${rank}`);
    return r;
  });
}

export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const set = new Set(normaliseAxes(axes, shape.length));
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Output length of a conv/pool window along one axis (ONNX/TensorFlow floor rule). */
export function spatialOutputDim(size: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation = 1): number {
  const span = (kernel - 1) * dilation + 1;
  return Math.floor((size + padBegin + padEnd - span) / stride) + 1;
}

/**
 * TensorFlow's SAME padding along one axis: the output has ceil(size / stride) positions, and the odd pixel of padding
 * goes at the end (ONNX auto_pad SAME_UPPER).
 */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Product of the dims, or undefined when a dim is symbolic. */
export function staticSize(shape: Shape): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

/** Bind symbolic dims of `declared` against a concrete shape; returns an error message or undefined. */
export function matchShape(declared: Shape, actual: readonly number[], bound: Map<string, number>): string | undefined {
  if (declared.length !== actual.length) return `rank ${actual.length}, expected ${declared.length}`;
  for (let i = 0; i < declared.length; i++) {
    const d = declared[i];
    const a = actual[i];
    if (typeof d === 'number') {
      if (d !== a) return `dim ${i} is ${a}, expected ${d}`;
    } else {
      const prev = bound.get(d);
      if (prev === undefined) bound.set(d, a);
      else if (prev !== a) return `dim ${i} (${d}) is ${a}, but ${d} = ${prev} elsewhere`;
    }
  }
  return undefined;
}
