/**
 * HTTP transport: POST/GET /graphql through Apollo (with its CSRF protection); GET /livez (the process is up; also
 * /healthz), /readyz (ready to serve: readiness.ts) and /metrics (Prometheus). The listener opens before the start has
 * finished, so probes can see it start; until then GraphQL answers NOT_READY (503). A GraphQL request is rate-limited
 * (rate-limit.ts) before its body is read. Every request gets an id (x-request-id, taken from the request when it
 * sends a sane one) and one log line; bodies, variables and keys are never logged.
 * In safelist mode (safelist.ts) only registered operations reach Apollo. Apollo's automatic persisted queries (APQ)
 * work through this layer as through Apollo's own (POST and GET; apq-cache.ts shares them between replicas).
 * Bodies are capped at MAX_BODY_BYTES (a registerPosts batch of 1000 posts with 2,048-d features is ~25 MB); a
 * GraphQL multipart request (registerPost's media file, multipart.ts) has its files cut at the media byte limit.
 * Every request is counted in `inflight` until its response is written; while the app drains (a graceful stop,
 * app.ts) responses carry `Connection: close`, so kept-alive clients reconnect elsewhere after their current request.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { Config } from '../config/config.js';
import type { Services } from '../domain/services.js';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { authenticate, contextFor, type Auth, type Context } from '../graphql/context.js';
import type { Metrics, RequestInfo } from './metrics.js';
import type { Bucket, RateLimiter } from './rate-limit.js';
import type { InFlight } from './in-flight.js';
import { isMultipart, MultipartError, multipartRefusal, readMultipart } from './multipart.js';
import type { Readiness } from './readiness.js';
import type { Safelist } from './safelist.js';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** What the transport serves with; `app` is set once Apollo and the services exist. */
export interface Transport {
  config: Pick<Config, 'ratePerKey' | 'burstPerKey' | 'ratePerAddress' | 'burstPerAddress' | 'trustProxy'>;
  logger: Logger;
  readiness: Readiness;
  metrics: Metrics;
  limiter: RateLimiter;
  app: { apollo: ApolloServer<Context>; services: Services } | null;
  /** Requests being handled, by their responses (a graceful stop waits for them). */
  inflight: InFlight<ServerResponse>;
  /** A graceful stop has begun: no keep-alive from here on. */
  draining: boolean;
  /** Safelist mode (MEMER_SAFELIST): only these operations run; null: any. */
  safelist?: Safelist | null;
}

/** A graceful stop begins: every response from here on, those of the requests in flight included, closes its connection. */
export function beginDrain(t: Transport): void {
  t.draining = true;
  for (const res of t.inflight.items) if (!res.headersSent) res.setHeader('connection', 'close');
}

/** The client went away before its body arrived (or the stop closed its connection): nothing to answer, nothing to log. */
class ClientGone extends Error {}

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
    // Without this a body cut off mid-way (client gone, connection closed by a stop) would leave the request in flight.
    req.on('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

/** A GraphQL-shaped error response from the transport itself (before Apollo); the request body is discarded. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, code: ErrorCode | 'BAD_REQUEST', message: string, extensions: Record<string, unknown> = {}): void {
  req.resume();
  send(res, status, JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] }));
}

/** A client's own request id when it is a plain token (so it is safe in logs and headers), else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  const id = Array.isArray(header) ? header[0] : header;
  return id && /^[\w.:@/+=-]{1,128}$/.test(id) ? id : randomUUID();
}

/** The client's address: the socket's peer, or with trustProxy the last X-Forwarded-For entry (our proxy's view). */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  let address = req.socket.remoteAddress ?? 'unknown';
  const forwarded = req.headers['x-forwarded-for'];
  if (trustProxy && forwarded) {
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded).split(',').pop()?.trim();
    if (last) address = last;
  }
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const ROUTES = new Set(['/graphql', '/', '/livez', '/healthz', '/readyz', '/metrics']);

export async function handle(t: Transport, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const t0 = performance.now();
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const [pathname, search] = q < 0 ? [target, ''] : [target.slice(0, q), target.slice(q)];
  const info: RequestInfo = { id: requestIdOf(req.headers['x-request-id']), operation: null, outcome: null };
  res.setHeader('x-request-id', info.id);
  if (t.draining) res.setHeader('connection', 'close');
  const route = ROUTES.has(pathname) ? (pathname === '/' ? '/graphql' : pathname) : 'other';
  let client: string | null = null;
  res.once('finish', () => {
    const seconds = (performance.now() - t0) / 1000;
    t.metrics.httpDuration.observe({ route, method: req.method ?? 'GET', status: String(res.statusCode) }, seconds);
    if (route !== '/graphql') return;
    t.logger.info('request', {
      requestId: info.id,
      method: req.method,
      status: res.statusCode,
      ms: Math.round(seconds * 10_000) / 10,
      operation: info.operation?.slice(0, 100) ?? null,
      outcome: info.outcome,
      client,
    });
  });

  if (pathname === '/livez' || pathname === '/healthz') return send(res, 200, JSON.stringify({ ok: true }));
  if (pathname === '/readyz') {
    const state = await t.readiness.check();
    if (!state.ready) res.setHeader('retry-after', '1');
    return send(res, state.ready ? 200 : 503, JSON.stringify(state));
  }
  if (pathname === '/metrics') return send(res, 200, await t.metrics.registry.metrics(), t.metrics.registry.contentType);
  if (route === 'other') return send(res, 404, JSON.stringify({ error: 'not found: use /graphql' }));

  const starting = t.readiness.starting;
  if (starting || !t.app) {
    res.setHeader('retry-after', '1');
    return refuse(req, res, 503, ErrorCode.NOT_READY, `the service is starting (${starting ?? 'starting'}); see /readyz`);
  }
  const { apollo, services } = t.app;
  const auth = await authenticate(services, req.headers.authorization);
  client = auth.keyPrefix ? `key:${auth.keyPrefix}` : `address:${clientAddress(req, t.config.trustProxy)}`;
  const limited = await rateLimit(t, client, auth);
  if (limited) {
    const retryAfter = Math.max(1, Math.ceil(limited.retryAfterMs / 1000));
    res.setHeader('retry-after', String(retryAfter));
    t.metrics.rateLimited.inc({ client: auth.keyPrefix ? 'key' : 'address' });
    info.outcome = ErrorCode.RATE_LIMITED;
    return refuse(req, res, 429, ErrorCode.RATE_LIMITED, `rate limit of ${limited.bucket.rate} requests/s (burst ${limited.bucket.burst}) for this ${auth.keyPrefix ? 'API key' : 'client address'} reached; retry in ${limited.retryAfterMs} ms`, {
      retryAfter,
      retryAfterMs: limited.retryAfterMs,
    });
  }

  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  let body: unknown;
  // A multipart request's response waits for its body to end (multipart.ts).
  let ended: Promise<void> | null = null;
  if (isMultipart(req)) {
    const refused = multipartRefusal(req, auth);
    if (refused) {
      info.outcome = refused.code;
      return refuse(req, res, refused.status, refused.code, refused.message);
    }
    try {
      ({ body, ended } = await readMultipart(req, res, { maxFieldSize: MAX_BODY_BYTES, maxFileSize: services.media.limits.maxBytes + 1, maxFiles: services.config.maxBatch }));
    } catch (err) {
      if (!(err instanceof MultipartError)) throw err;
      if (err.status === 499) throw new ClientGone();
      info.outcome = ErrorCode.BAD_USER_INPUT;
      return refuse(req, res, err.status, ErrorCode.BAD_USER_INPUT, err.message);
    }
  } else {
    const text = req.method === 'POST' ? await readBody(req) : '';
    if (text === null) return send(res, 413, JSON.stringify({ errors: [{ message: `request body over ${MAX_BODY_BYTES} bytes`, extensions: { code: 'BAD_USER_INPUT' } }] }));
    body = text;
  }
  const text = typeof body === 'string' ? body : '';
  if (text && (headers.get('content-type') ?? '').includes('application/json')) {
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, JSON.stringify({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] }));
    }
  }
  let query = search;
  if (t.safelist) {
    const listed = t.safelist.resolve(req.method ?? 'GET', body, search);
    if (!listed.ok) {
      info.outcome = ErrorCode.PERSISTED_QUERY_NOT_IN_LIST;
      return refuse(req, res, 400, ErrorCode.PERSISTED_QUERY_NOT_IN_LIST, listed.message);
    }
    ({ body, search: query } = listed);
  }
  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: query, body },
    context: async () => contextFor(services, auth, info),
  });
  await ended;
  for (const [k, v] of result.headers) res.setHeader(k, v);
  res.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') res.end(result.body.string);
  else {
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }
}

/** Takes the request's token; null when allowed, else the bucket and the wait. */
async function rateLimit(t: Transport, client: string, auth: Auth): Promise<{ bucket: Bucket; retryAfterMs: number } | null> {
  const bucket: Bucket = auth.keyPrefix ? { rate: t.config.ratePerKey, burst: t.config.burstPerKey } : { rate: t.config.ratePerAddress, burst: t.config.burstPerAddress };
  if (bucket.rate <= 0) return null;
  const decision = await t.limiter.take(client, bucket);
  return decision.allowed ? null : { bucket, retryAfterMs: decision.retryAfterMs };
}

export async function listen(t: Transport, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void t.inflight.track(
      res,
      handle(t, req, res).catch((err: unknown) => {
        if (err instanceof ClientGone) return;
        t.logger.error('request failed', { error: err instanceof Error ? err.stack : String(err) });
        if (!res.headersSent) send(res, 500, JSON.stringify({ errors: [{ message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/graphql` };
}
