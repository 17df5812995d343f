/**
 * GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec): registerPost's media
 * file as a part of the request, parsed by graphql-upload's processRequest into the operation, with an Upload where
 * each file goes (its bytes stream to a temporary file, removed when the response closes).
 *
 * Refused before any file is read: a request without a non-empty `apollo-require-preflight` or
 * `x-apollo-operation-name` header (multipart/form-data is a "simple" content type a browser sends cross-site without a
 * preflight, so Apollo's CSRF prevention would refuse it anyway, but only after the files arrived), and one without a
 * key of the `write` scope (only uploads take files). Files are cut at the media byte limit and counted against
 * config.maxBatch; batched operations (a JSON array) are not supported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import processRequest from 'graphql-upload/processRequest.mjs';
import { allows } from '../domain/keys/keys.service.js';
import { ErrorCode } from '../errors.js';
import type { Auth } from '../graphql/context.js';

export const PREFLIGHT_HEADERS = ['apollo-require-preflight', 'x-apollo-operation-name'] as const;

export const isMultipart = (req: IncomingMessage) => req.method === 'POST' && /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');

export interface Refusal {
  status: number;
  code: ErrorCode | 'BAD_REQUEST';
  message: string;
}

/** Why a multipart request may not be read, or null. */
export function multipartRefusal(req: IncomingMessage, auth: Auth): Refusal | null {
  if (!PREFLIGHT_HEADERS.some((h) => String(req.headers[h] ?? '').length > 0)) {
    return {
      status: 400,
      code: 'BAD_REQUEST',
      message: `a multipart request must carry a non-empty ${PREFLIGHT_HEADERS.join(' or ')} header (CSRF prevention: docs/content-pipeline.md)`,
    };
  }
  if (auth.badKey) return { status: 401, code: ErrorCode.UNAUTHENTICATED, message: 'the API key is unknown or revoked' };
  if (!auth.scopes) return { status: 401, code: ErrorCode.UNAUTHENTICATED, message: 'file uploads need an API key with the "write" scope: send Authorization: Bearer <key>' };
  if (!allows(auth.scopes, 'write')) return { status: 403, code: ErrorCode.FORBIDDEN, message: `file uploads need the "write" scope; the key has ${auth.scopes.join(', ')}` };
  return null;
}

/** processRequest's refusals carry an HTTP status (http-errors). */
export class MultipartError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'MultipartError';
  }
}

/**
 * The operation of a multipart request (its files as Uploads), and a promise of the request's end: a response must
 * wait for it, or Node would close the connection while the client still sends (graphql-upload's own middleware
 * waits the same way).
 */
export async function readMultipart(
  req: IncomingMessage,
  res: ServerResponse,
  limits: { maxFieldSize: number; maxFileSize: number; maxFiles: number },
): Promise<{ body: Record<string, unknown>; ended: Promise<void> }> {
  const ended = new Promise<void>((resolve) => {
    if (req.readableEnded) resolve();
    req.once('end', resolve);
    req.once('close', resolve);
  });
  let operations: Record<string, unknown> | Record<string, unknown>[];
  try {
    // A file of exactly maxFileSize - 1 bytes passes; one more byte is cut, and reading it fails as TOO_LARGE.
    operations = await processRequest(req, res, limits);
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    throw new MultipartError(typeof status === 'number' ? status : 400, (err as Error).message);
  }
  if (Array.isArray(operations)) throw new MultipartError(400, 'batched operations are not supported in a multipart request: send one operation');
  return { body: operations, ended };
}
