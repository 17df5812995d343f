/**
 * The single mapping from errors to GraphQL responses: AppError -> its code and details in `extensions`; GraphQL's own
 * validation and parse errors keep Apollo's codes; anything else is INTERNAL_SERVER_ERROR with a generic message
 * (logged in full). Stack traces reach clients only in development mode.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { AppError, ErrorCode } from '../errors.js';
import type { Logger } from '../lib/logger.js';

export function formatError(development: boolean, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
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
