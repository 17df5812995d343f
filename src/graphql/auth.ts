/**
 * Access control in one place. Mutations declare the scope they need with @Authorized('write' | 'admin'); queries
 * need `read` when MEMER_READ_ACCESS=key. No key or a bad key -> UNAUTHENTICATED; a valid key without the scope ->
 * FORBIDDEN.
 */
import type { AuthChecker, MiddlewareFn } from 'type-graphql';
import { AppError, ErrorCode } from '../errors.js';
import { allows, type Scope } from '../domain/keys/keys.service.js';
import type { Context } from './context.js';

export function requireScope(ctx: Context, needed: Scope): void {
  if (ctx.badKey) throw new AppError(ErrorCode.UNAUTHENTICATED, 'the API key is unknown or revoked');
  if (!ctx.scopes) throw new AppError(ErrorCode.UNAUTHENTICATED, `this operation needs an API key with the "${needed}" scope: send Authorization: Bearer <key>`);
  if (!allows(ctx.scopes, needed)) throw new AppError(ErrorCode.FORBIDDEN, `this operation needs the "${needed}" scope; the key has ${ctx.scopes.join(', ')}`);
}

export const authChecker: AuthChecker<Context, Scope> = ({ context }, roles) => {
  for (const role of roles) requireScope(context, role);
  return true;
};

/** Root query fields need `read` when reads are not open. A bad key is refused even when they are. */
export const readAccess: MiddlewareFn<Context> = async ({ context, info }, next) => {
  if (info.parentType.name === 'Query') {
    if (context.services.config.readAccess === 'key') requireScope(context, 'read');
    else if (context.badKey) throw new AppError(ErrorCode.UNAUTHENTICATED, 'the API key is unknown or revoked');
  }
  return next();
};
