/**
 * The error codes clients see (GraphQL `extensions.code`, CLI messages). Services throw AppError with one of these;
 * src/graphql/errors.ts maps them to GraphQL errors in one place.
 */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  /** Over a query limit (depth, aliases, directives, tokens, cost): rejected before anything runs. */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** Over the rate limit of the API key or client address; `extensions.retryAfter` says when to come back. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** The service is still starting (migrations, models, indexes, demo): HTTP 503 until /readyz answers 200. */
  NOT_READY = 'NOT_READY',
  /**
   * Safelist mode (MEMER_SAFELIST): the operation, by its document or its persisted-query hash, is not one of the
   * registered ones, so it does not run (Apollo Router's name for the same refusal).
   */
  PERSISTED_QUERY_NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** The client's mistakes: expected outcomes, not bugs. */
const CLIENT_ERRORS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.NOT_FOUND,
  ErrorCode.CONFLICT,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.FORBIDDEN,
  ErrorCode.QUERY_TOO_COMPLEX,
  ErrorCode.RATE_LIMITED,
  ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
]);

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable details (e.g. the offending input path), copied into `extensions`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
    if (CLIENT_ERRORS.has(code)) this.stack = withoutFrames(this);
  }
}

/**
 * The stack of an error that needs none (a client's mistake), set so that its frames are never formatted: graphql-js
 * and Apollo read `stack` of every error they wrap, and formatting it through the source maps tsx installs cost more
 * CPU than the request (a flood of invalid uploads: ~25% of the server's time).
 */
export function withoutFrames(err: Error): string {
  return `${err.name}: ${err.message}`;
}

/**
 * A client's value quoted in an error message, cut to its first `max` characters: an error must not echo a 10 MB
 * input back (nor put it in the logs).
 */
export function quote(value: unknown, max = 64): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > max ? `${JSON.stringify(text.slice(0, max))}... (${text.length} characters)` : JSON.stringify(text);
}

export const badInput = (message: string, details?: Record<string, unknown>) => new AppError(ErrorCode.BAD_USER_INPUT, message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new AppError(ErrorCode.NOT_FOUND, message, details);
export const conflict = (message: string, details?: Record<string, unknown>) => new AppError(ErrorCode.CONFLICT, message, details);
