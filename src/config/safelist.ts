/**
 * The safelist manifest (MEMER_SAFELIST): the only operations a server in safelist mode runs. Two formats:
 *   {"<sha256 hex of the document>": "<document>", ...}
 *   Apollo's persisted-query manifest: {"format": "apollo-persisted-query-manifest", "version": 1,
 *     "operations": [{"id": "<sha256 hex>", "name": "...", "type": "query", "body": "<document>"}]}
 * Every id must be the sha256 of its document as written (what clients send as the APQ hash): a mismatch would let
 * a hash run a document other than the one the client hashed, so it stops the start.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

const HASH = /^[0-9a-f]{64}$/;

/** sha256 -> document; throws an Error saying what is wrong with the file. */
export function readSafelist(path: string): ReadonlyMap<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the safelist ${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path} must hold a JSON object`);
  const raw = parsed as Record<string, unknown>;
  let entries: [unknown, unknown][];
  if (raw.format === 'apollo-persisted-query-manifest') {
    if (raw.version !== 1 || !Array.isArray(raw.operations)) throw new Error(`${path}: an apollo-persisted-query-manifest of version 1 with "operations" is expected`);
    entries = (raw.operations as { id?: unknown; body?: unknown }[]).map((op) => [op?.id, op?.body]);
  } else entries = Object.entries(raw);
  const out = new Map<string, string>();
  for (const [id, body] of entries) {
    if (typeof id !== 'string' || !HASH.test(id)) throw new Error(`${path}: ${JSON.stringify(id)} is not a sha256 in lowercase hex`);
    if (typeof body !== 'string' || body.trim() === '') throw new Error(`${path}: the operation ${id} has no document`);
    if (sha256Hex(body) !== id) throw new Error(`${path}: ${id} is not the sha256 of its document (${sha256Hex(body)})`);
    out.set(id, body);
  }
  if (out.size === 0) throw new Error(`${path} lists no operation: nothing could run`);
  return out;
}
