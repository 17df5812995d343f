/**
 * The single mapping from errors to GraphQL responses: AppError -> its code and details in `extensions` (also where
 * a validation rule or plugin wrapped one: the query limits); GraphQL's own validation and parse errors keep Apollo's
 * codes, but for the parser's token limit and stack (QUERY_TOO_COMPLEX), the arguments graphql-js itself fails to
 * coerce during execution (BAD_USER_INPUT) and Apollo's own refusals of a request that carry an HTTP 4xx status but
 * no code (BAD_REQUEST); anything else is INTERNAL_SERVER_ERROR with a generic message (logged in full). Messages are
 * cut to MAX_MESSAGE characters (graphql-js and Apollo quote the offending value whole: a 10 MB string came back
 * twice). Stack traces reach clients only in development mode.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { nestingLimitError, tokenLimitError } from './limits.js';

/**
 * graphql-js's own errors for an argument it cannot coerce at execution (graphql 16, execution/values.js: "Argument
 * "first" of non-null type "Int!" must not be null.", "... has invalid value ...", "... was provided the variable ...
 * which was not provided a runtime value."): `{"x": null}` for `posts(first: $x)` with `$x: Int` passes validation,
 * because the argument has a default, and fails here. They carry no original error; a resolver's errors always do.
 */
function isArgumentCoercionError(err: unknown): err is GraphQLError {
  return err instanceof GraphQLError && err.originalError == null && /^Argument "[_A-Za-z][_0-9A-Za-z]*" /.test(err.message);
}

/**
 * Apollo's refusals before execution that it raises as plain GraphQLErrors with an HTTP status (a persisted query of an
 * unknown version, a hash that does not match its query): the client's mistake, not the server's.
 */
function isRequestError(err: unknown): err is GraphQLError {
  const status = (err as GraphQLError | null)?.extensions?.http as { status?: number } | undefined;
  return err instanceof GraphQLError && err.originalError == null && err.extensions.code === undefined && status?.status !== undefined && status.status >= 400 && status.status < 500;
}

const MAX_MESSAGE = 1000;

/** A message cut in the middle (its start says what, its end often why: "... Expected type ..."). */
function bounded(message: string): string {
  if (message.length <= MAX_MESSAGE) return message;
  return `${message.slice(0, MAX_MESSAGE / 2)} ...(${message.length - MAX_MESSAGE} characters cut)... ${message.slice(-MAX_MESSAGE / 2)}`;
}

/** The error to report: a resolver's own, or the AppError a validation rule or plugin wrapped in a GraphQLError. */
function originalOf(error: unknown): unknown {
  const original = unwrapResolverError(error);
  if (original instanceof GraphQLError && original.originalError instanceof AppError) return original.originalError;
  return original;
}

export function formatError(development: boolean, logger: Logger) {
  const format = formatOne(development, logger);
  return (error: GraphQLFormattedError, original: unknown): GraphQLFormattedError => {
    const out = format(error, original);
    return out.message.length > MAX_MESSAGE ? { ...out, message: bounded(out.message) } : out;
  };
}

function formatOne(development: boolean, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let original = originalOf(error);
    if (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED') original = tokenLimitError(formatted.message) ?? nestingLimitError(formatted.message) ?? original;
    if (isArgumentCoercionError(original)) original = new AppError(ErrorCode.BAD_USER_INPUT, original.message);
    if (isRequestError(original)) {
      return { message: original.message, extensions: { code: 'BAD_REQUEST', ...(development ? { stacktrace: original.stack?.split('\n') } : {}) } };
    }
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
