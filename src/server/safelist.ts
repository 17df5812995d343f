/**
 * Safelist mode (MEMER_SAFELIST): only the operations of a manifest run (src/config/safelist.ts reads it). Checked in
 * the transport before Apollo parses anything, on POST bodies and GET query strings alike: a request whose document
 * is listed (by its sha256, as written), or that names a listed hash in Apollo's persistedQuery extension, runs; the
 * document of a hash-only request is filled in from the manifest, so clients need not register it first (no
 * PERSISTED_QUERY_NOT_FOUND round trip), and nothing a client sends can add to the list. Anything else is refused
 * with PERSISTED_QUERY_NOT_IN_LIST (HTTP 400), introspection included unless its query is listed.
 */
import { readSafelist, sha256Hex } from '../config/safelist.js';

export type SafelistDecision = { ok: true; body: unknown; search: string } | { ok: false; message: string };

interface GraphQLRequestShape {
  query?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } };
}

export class Safelist {
  constructor(private readonly operations: ReadonlyMap<string, string>) {}

  static load(path: string): Safelist {
    return new Safelist(readSafelist(path));
  }

  get size(): number {
    return this.operations.size;
  }

  /** The listed operation a request names (its document filled in when it sent only the hash), or why it is refused. */
  resolve(method: string, body: unknown, search: string): SafelistDecision {
    if (method === 'GET') {
      const params = new URLSearchParams(search);
      let extensions: unknown;
      try {
        extensions = params.has('extensions') ? JSON.parse(params.get('extensions')!) : undefined;
      } catch {
        return { ok: false, message: 'safelist mode: the extensions parameter is not valid JSON' };
      }
      const found = this.find({ query: params.get('query') ?? undefined, extensions: extensions as GraphQLRequestShape['extensions'] });
      if (typeof found !== 'string') return found;
      if (!params.get('query')) params.set('query', found);
      return { ok: true, body, search: `?${params}` };
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, message: 'safelist mode: send one operation as a JSON object (query, or a persistedQuery hash)' };
    const request = body as GraphQLRequestShape;
    const found = this.find(request);
    if (typeof found !== 'string') return found;
    return { ok: true, body: typeof request.query === 'string' && request.query ? body : { ...request, query: found }, search };
  }

  private find(request: GraphQLRequestShape): string | { ok: false; message: string } {
    if (typeof request.query === 'string' && request.query) {
      return this.operations.has(sha256Hex(request.query)) ? request.query : { ok: false, message: 'safelist mode: this operation is not a registered one (MEMER_SAFELIST)' };
    }
    const hash = request.extensions?.persistedQuery?.sha256Hash;
    if (typeof hash === 'string') {
      const listed = this.operations.get(hash);
      // A client's hash can be anything: quote only a sane one.
      return listed ?? { ok: false, message: `safelist mode: no registered operation has the hash ${/^[0-9a-f]{64}$/.test(hash) ? hash : '(not a sha256)'} (MEMER_SAFELIST)` };
    }
    return { ok: false, message: 'safelist mode: the request names no operation (a query, or a persistedQuery sha256Hash)' };
  }
}
