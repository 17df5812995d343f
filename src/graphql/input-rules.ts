/**
 * Input checks graphql-js leaves to execution or to the databases, made before anything runs:
 *  - strings (in the document and in the variables, object keys included) must not contain NUL and must be
 *    well-formed UTF-16: PostgreSQL refuses U+0000 in text (a query or write with one failed as INTERNAL_SERVER_ERROR)
 *    and both drivers store a lone surrogate as U+FFFD, so the stored value would not be the one sent (on SQLite a NUL
 *    was stored, so the same request behaved differently per database). BAD_USER_INPUT, HTTP 400, with the path
 *    (lib/storable-text.ts; cursors, whose strings these checks cannot see, are checked in domain/pagination.ts).
 *  - the operation's type must exist in the schema: graphql-js validates a `subscription` against a schema without
 *    subscriptions and then fails in execution, which Apollo reported as INTERNAL_SERVER_ERROR (now
 *    GRAPHQL_VALIDATION_FAILED, HTTP 400).
 * The document checks are validation rules (once per distinct document: Apollo caches validation); the variables are
 * walked per request, iteratively (variables may nest 100,000 deep), skipping numbers (a batch's feature vectors).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, type ValidationRule } from 'graphql';
import { badInput } from '../errors.js';
import { badString } from '../lib/storable-text.js';

/** A key as a path segment: a 10 MB key must not make a 10 MB message. */
const segment = (k: string) => (k.length > 64 ? `${k.slice(0, 64)}...` : k);

/** The first bad string (or object key) in a variables object, with its path, or null. */
function badVariable(variables: Record<string, unknown>): { path: string; reason: string } | null {
  const stack: [unknown, string][] = Object.entries(variables).map(([k, v]) => [v, `$${segment(k)}`]);
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const reason = badString(value);
      if (reason) return { path, reason };
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item !== null && typeof item !== 'number' && typeof item !== 'boolean') stack.push([item, `${path}[${i}]`]);
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const reason = badString(k);
        if (reason) return { path: `${path}.${segment(k)}`, reason };
        if (v !== null && typeof v !== 'number' && typeof v !== 'boolean') stack.push([v, `${path}.${segment(k)}`]);
      }
    }
  }
  return null;
}

/** Validation: string literals of the document, and operation types the schema has. */
export const inputRules: ValidationRule[] = [
  (context) => ({
    StringValue(node) {
      const reason = badString(node.value);
      if (reason) context.reportError(new GraphQLError(reason, { nodes: node, originalError: badInput(reason) }));
    },
  }),
  (context) => ({
    OperationDefinition(node) {
      if (!context.getSchema().getRootType(node.operation)) {
        context.reportError(new GraphQLError(`this service has no ${node.operation} operations`, { nodes: node }));
      }
    },
  }),
];

/** The variables' strings, before anything executes (GET and POST alike). */
export function inputPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const bad = request.variables ? badVariable(request.variables) : null;
          if (bad) throw new GraphQLError(`${bad.reason}: ${bad.path}`, { originalError: badInput(`${bad.reason}: ${bad.path}`, { path: bad.path }), extensions: { http: { status: 400 } } });
        },
      };
    },
  };
}
