/**
 * HTTP transport: POST/GET /graphql through Apollo (with its CSRF protection), GET /healthz for load balancers.
 * Bodies are capped at MAX_BODY_BYTES (a registerPosts batch of 1000 posts with 2,048-d features is ~25 MB).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Services } from '../domain/services.js';
import type { Logger } from '../lib/logger.js';
import { createContext, type Context } from '../graphql/context.js';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The body as text, or null past MAX_BODY_BYTES (the rest is read and dropped, so the connection stays usable). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > MAX_BODY_BYTES) return;
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else {
        chunks.length = 0;
        resolve(null);
      }
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

export async function handle(apollo: ApolloServer<Context>, services: Services, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const [pathname, search] = q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q)];
  if (pathname === '/healthz') return send(res, 200, JSON.stringify({ ok: true }));
  if (pathname !== '/graphql' && pathname !== '/') return send(res, 404, JSON.stringify({ error: 'not found: use /graphql' }));
  const text = req.method === 'POST' ? await readBody(req) : '';
  if (text === null) return send(res, 413, JSON.stringify({ errors: [{ message: `request body over ${MAX_BODY_BYTES} bytes`, extensions: { code: 'BAD_USER_INPUT' } }] }));
  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  let body: unknown = text;
  if (text && (headers.get('content-type') ?? '').includes('application/json')) {
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, JSON.stringify({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] }));
    }
  }
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
    context: () => createContext(services, req.headers.authorization),
  });
  for (const [k, v] of result.headers) res.setHeader(k, v);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') res.end(result.body.string);
  else {
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

export async function listen(apollo: ApolloServer<Context>, services: Services, logger: Logger, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(apollo, services, req, res).catch((err: unknown) => {
      logger.error('request failed', { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) send(res, 500, JSON.stringify({ errors: [{ message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/graphql` };
}
