/**
 * The single mapping from errors to GraphQL responses: AppError -> its code and details in `extensions` (also where
 * a validation rule or plugin wrapped one: the query limits); GraphQL's own validation and parse errors keep Apollo's
 * codes, but for the parser's token limit (QUERY_TOO_COMPLEX) and the arguments graphql-js itself fails to coerce
 * during execution (BAD_USER_INPUT); anything else is INTERNAL_SERVER_ERROR with a generic message (logged in
 * full). Stack traces reach clients only in development mode.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { tokenLimitError } from './limits.js';

/**
 * graphql-js's own errors for an argument it cannot coerce at execution (graphql 16, execution/values.js: "Argument
 * "first" of non-null type "Int!" must not be null.", "... has invalid value ...", "... was provided the variable ...
 * which was not provided a runtime value."): `{"x": null}` for `posts(first: $x)` with `$x: Int` passes validation,
 * because the argument has a default, and fails here. They carry no original error; a resolver's errors always do.
 */
function isArgumentCoercionError(err: unknown): err is GraphQLError {
  return err instanceof GraphQLError && err.originalError == null && /^Argument "[_A-Za-z][_0-9A-Za-z]*" /.test(err.message);
}

/** The error to report: a resolver's own, or the AppError a validation rule or plugin wrapped in a GraphQLError. */
function originalOf(error: unknown): unknown {
  const original = unwrapResolverError(error);
  if (original instanceof GraphQLError && original.originalError instanceof AppError) return original.originalError;
  return original;
}

export function formatError(development: boolean, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let original = originalOf(error);
    if (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED') original = tokenLimitError(formatted.message) ?? original;
    if (isArgumentCoercionError(original)) original = new AppError(ErrorCode.BAD_USER_INPUT, original.message);
    const stack = development && original instanceof Error ? { stacktrace: original.stack?.split('\n') } : {};
    if (original instanceof AppError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: { ...original.details, code: original.code, ...stack } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      // Apollo's own (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, BAD_USER_INPUT for variables, ...).
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, ...stack } };
    }
    logger.error('unhandled error in a resolver', { error: original instanceof Error ? original.stack : String(original), path: formatted.path });
    return {
      message: development && original instanceof Error ? original.message : 'internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, ...stack },
    };
  };
}
