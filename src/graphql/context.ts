import type { RequestLoaders } from '../domain/loaders.js';
import type { Scope } from '../domain/keys/keys.service.js';
import type { Services } from '../domain/services.js';

/** Per-request state: the shared services, fresh loaders, and who is calling. */
export interface Context {
  services: Services;
  loaders: RequestLoaders;
  /** Scopes of the presented key; null when no key (or an invalid one) was sent. */
  scopes: Scope[] | null;
  /** A key was presented but is unknown, revoked or malformed. */
  badKey: boolean;
}

/** Builds the context from an Authorization header value (`Bearer <key>`). */
export async function createContext(services: Services, authorization: string | undefined | null): Promise<Context> {
  let scopes: Scope[] | null = null;
  let badKey = false;
  if (authorization) {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    scopes = m ? await services.keys.verify(m[1]) : null;
    badKey = scopes === null;
  }
  return { services, loaders: services.loaders(), scopes, badKey };
}
