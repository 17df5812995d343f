/**
 * FloatVector: a list of numbers parsed as one value. A video upload carries ~2,300 feature values; as `[Float!]`
 * graphql-js coerces them one by one (about a sixth of registerPost's CPU, measured with `memer bench serve --set
 * profile=DIR`), while this checks the array in one pass. On the wire it is the same JSON array, so clients see no
 * difference; range checks (finite, float16) happen in post validation, which names the field.
 * It also takes a packed string, "f16:<base64>" or "f32:<base64>" (lib/packed-floats.ts), for clients that hold
 * binary vectors: smaller, and about 5x cheaper to read than the number array.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { halvesToFloats } from '../../lib/float16.js';
import { Halves, unpackVector, type FloatValues } from '../../lib/packed-floats.js';
import { withoutFrames } from '../../errors.js';

/** A client's malformed vector: a GraphQLError without stack frames (errors.ts, withoutFrames). */
function inputError(message: string): GraphQLError {
  const err = new GraphQLError(message);
  err.stack = withoutFrames(err);
  return err;
}

/** A packed string's values: float16 halves stay halves (they are stored as such), f32 become a Float32Array. */
function unpacked(text: string): Halves | Float32Array {
  try {
    return unpackVector(text);
  } catch (err) {
    throw inputError(`FloatVector: ${(err as Error).message}`);
  }
}

function fromValue(value: unknown): FloatValues {
  if (typeof value === 'string') return unpacked(value);
  // GraphQL's list coercion accepts a single item as a list of one; so does this.
  const list = Array.isArray(value) ? value : [value];
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'number') throw inputError(`FloatVector must be a list of numbers or a packed "f16:"/"f32:" base64 string; item ${i} is ${JSON.stringify(list[i]) ?? String(list[i])}`);
  }
  return list as number[];
}

/** An inline literal: a list of int and float literals, or a packed string (variables stand for whole vectors, not items). */
function fromLiteral(node: ValueNode): FloatValues {
  if (node.kind === Kind.STRING) return unpacked(node.value);
  const item = (n: ValueNode, i: number): number => {
    if (n.kind === Kind.INT || n.kind === Kind.FLOAT) return Number(n.value);
    throw inputError(`FloatVector must be a list of numbers; item ${i} is not a number literal`);
  };
  return node.kind === Kind.LIST ? node.values.map(item) : [item(node, 0)];
}

export const FloatVector = new GraphQLScalarType({
  name: 'FloatVector',
  description:
    'A list of numbers, e.g. [0.12, -3.4]: the same JSON array as [Float!], checked in one pass. Also accepted: a packed string, "f16:" or "f32:" followed by the standard base64 of little-endian IEEE-754 halves or singles (smaller, and about 5x cheaper for the server to read).',
  parseValue: fromValue,
  parseLiteral: fromLiteral,
  serialize: (value) => (value instanceof Halves ? Array.from(halvesToFloats(value.bits)) : value instanceof Float32Array ? Array.from(value) : fromValue(value)),
});
