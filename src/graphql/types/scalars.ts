/**
 * FloatVector: a list of numbers parsed as one value. A video upload carries ~2,300 feature values; as `[Float!]`
 * graphql-js coerces them one by one (about a sixth of registerPost's CPU, measured with `memer bench serve --set
 * profile=DIR`), while this checks the array in one pass. On the wire it is the same JSON array, so clients see no
 * difference; range checks (finite, float16) happen in post validation, which names the field.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

function fromValue(value: unknown): number[] {
  // GraphQL's list coercion accepts a single item as a list of one; so does this.
  const list = Array.isArray(value) ? value : [value];
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'number') throw new GraphQLError(`FloatVector must be a list of numbers; item ${i} is ${JSON.stringify(list[i]) ?? String(list[i])}`);
  }
  return list as number[];
}

/** An inline literal: a list of int and float literals (variables stand for whole vectors, not items). */
function fromLiteral(node: ValueNode): number[] {
  const item = (n: ValueNode, i: number): number => {
    if (n.kind === Kind.INT || n.kind === Kind.FLOAT) return Number(n.value);
    throw new GraphQLError(`FloatVector must be a list of numbers; item ${i} is not a number literal`);
  };
  return node.kind === Kind.LIST ? node.values.map(item) : [item(node, 0)];
}

export const FloatVector = new GraphQLScalarType({
  name: 'FloatVector',
  description: 'A list of numbers, e.g. [0.12, -3.4]: the same JSON array as [Float!], checked in one pass.',
  parseValue: fromValue,
  parseLiteral: fromLiteral,
  serialize: (value) => (value instanceof Float32Array ? Array.from(value) : fromValue(value)),
});
