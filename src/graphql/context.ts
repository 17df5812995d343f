import type { RequestLoaders } from '../domain/loaders.js';
import type { Scope } from '../domain/keys/keys.service.js';
import type { Services } from '../domain/services.js';
import type { RequestInfo } from '../server/metrics.js';

/** Who is calling, from the Authorization header. */
export interface Auth {
  /** Scopes of the presented key; null when no key (or an invalid one) was sent. */
  scopes: Scope[] | null;
  /** A key was presented but is unknown, revoked or malformed. */
  badKey: boolean;
  /** The public prefix of a valid key (its id in `memer keys list`, never the secret): the rate-limit bucket. */
  keyPrefix: string | null;
}

/** Per-request state: the shared services, fresh loaders, and who is calling. */
export interface Context extends Omit<Auth, 'keyPrefix'> {
  services: Services;
  loaders: RequestLoaders;
  /** Set by the HTTP transport: the request id, and what Apollo reports back for the request log. */
  request?: RequestInfo;
}

/** Verifies an Authorization header value (`Bearer <key>`). */
export async function authenticate(services: Services, authorization: string | undefined | null): Promise<Auth> {
  if (!authorization) return { scopes: null, badKey: false, keyPrefix: null };
  const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  const scopes = m ? await services.keys.verify(m[1]) : null;
  const keyPrefix = scopes && m ? (/^mk_([0-9a-f]{12})_/.exec(m[1])?.[1] ?? null) : null;
  return { scopes, badKey: scopes === null, keyPrefix };
}

export function contextFor(services: Services, auth: Auth, request?: RequestInfo): Context {
  return { services, loaders: services.loaders(), scopes: auth.scopes, badKey: auth.badKey, ...(request ? { request } : {}) };
}

/** Builds the context from an Authorization header value (`Bearer <key>`). */
export async function createContext(services: Services, authorization: string | undefined | null): Promise<Context> {
  return contextFor(services, await authenticate(services, authorization));
}
