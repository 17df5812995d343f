/**
 * A post's raw media as registerPost receives it, read into memory under the byte limit: inline (standard base64 in
 * the JSON, optionally as a data: URL) or a file of a GraphQL multipart request (graphql-upload streams it to a
 * temporary file first; here it is read back, stopping past the limit). What the file is comes from its bytes
 * (src/media/sniff.ts); `mimeType` and `filename` only name it in messages.
 */
import type { Readable } from 'node:stream';
import { MediaError } from '../../media/errors.js';
import { badInput } from '../../errors.js';

/** A file of a multipart request, as graphql-upload resolves it (the fields memer reads). */
export interface UploadedFile {
  filename: string;
  mimetype: string;
  createReadStream(): Readable;
}

export interface MediaInput {
  /** The file's bytes in standard base64. */
  base64?: string | null;
  /** A file of a multipart request (graphql-upload's Upload scalar resolves to this promise). */
  file?: Promise<UploadedFile> | null;
  mimeType?: string | null;
  filename?: string | null;
}

export interface MediaBytes {
  bytes: Buffer;
  /** For messages: the file's name or declared type, when the client gave one. */
  label: string | null;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,/;

function label(name: string | null | undefined, type: string | null | undefined): string | null {
  const parts = [name, type].filter((s): s is string => typeof s === 'string' && s.length > 0).map((s) => (s.length > 100 ? `${s.slice(0, 100)}...` : s));
  return parts.length ? parts.join(', ') : null;
}

const tooLarge = (bytes: number | null, maxBytes: number) =>
  new MediaError('TOO_LARGE', bytes === null ? `the file is over the limit of ${maxBytes} bytes` : `the file is ${bytes} bytes, over the limit of ${maxBytes}`, {
    ...(bytes === null ? {} : { bytes }),
    maxBytes,
  });

/** Inline base64 without its data: URL prefix; its decoded size is known from its length, so no decoding is needed to refuse it. */
function base64Body(text: string, maxBytes: number, path: string): string {
  const body = text.replace(DATA_URL, '');
  const padding = body.endsWith('==') ? 2 : body.endsWith('=') ? 1 : 0;
  const bytes = Math.floor((body.length * 3) / 4) - padding;
  if (bytes > maxBytes) throw tooLarge(bytes, maxBytes);
  if (body.length % 4 !== 0 || !BASE64.test(body)) throw badInput('media.base64 must be the file in standard base64 (A-Z, a-z, 0-9, +, /, = padding), without line breaks', { path: `${path}.base64` });
  return body;
}

/** graphql-upload's refusals carry an HTTP status (http-errors): 413 is a file over the byte limit. */
function uploadError(err: unknown, maxBytes: number, path: string): Error {
  if (err instanceof MediaError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  if (status === 413) return tooLarge(null, maxBytes);
  return badInput(`media.file could not be read: ${(err as Error)?.message ?? String(err)}`, { path: `${path}.file` });
}

async function fromUpload(file: Promise<UploadedFile>, maxBytes: number, path: string): Promise<MediaBytes> {
  let upload: UploadedFile;
  try {
    upload = await file;
  } catch (err) {
    throw uploadError(err, maxBytes, path);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stream = upload.createReadStream();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy();
        throw tooLarge(null, maxBytes);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw uploadError(err, maxBytes, path);
  }
  return { bytes: Buffer.concat(chunks, size), label: label(upload.filename, upload.mimetype) };
}

/** The checks that need no reading (exactly one of base64 and file; the inline text's syntax and size), at once. */
export function checkMedia(input: MediaInput, maxBytes: number, path: string): void {
  if ((input.base64 != null) === (input.file != null)) throw badInput('media needs exactly one of base64 (inline) and file (a multipart upload)', { path });
  if (input.base64 != null) base64Body(input.base64, maxBytes, path);
}

/** The media's bytes; exactly one of base64 and file must be given. `path`: the input's path (e.g. `input.media`). */
export async function readMedia(input: MediaInput, maxBytes: number, path: string): Promise<MediaBytes> {
  checkMedia(input, maxBytes, path);
  if (input.base64 != null) return { bytes: Buffer.from(base64Body(input.base64, maxBytes, path), 'base64'), label: label(input.filename, input.mimeType) };
  const read = await fromUpload(input.file!, maxBytes, path);
  return { bytes: read.bytes, label: label(input.filename, input.mimeType) ?? read.label };
}
