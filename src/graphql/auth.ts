/**
 * Access control in one place. Mutations declare the scope they need with @Authorized('write' | 'admin'); queries
 * need `read` when MEMER_READ_ACCESS=key. No key or a bad key -> UNAUTHENTICATED; a valid key without the scope ->
 * FORBIDDEN.
 */
import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import type { AuthChecker } from 'type-graphql';
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

/**
 * Root query fields need `read` when reads are not open; a bad key is refused even when they are. Applied to the
 * built schema's Query fields (guardQueries), not as a type-graphql global middleware: that one wrapped every field of
 * every response, each in its own async call (a recommendations page of 50 posts ran ~200 of them).
 */
function checkRead(context: Context): void {
  if (context.services.config.readAccess === 'key') requireScope(context, 'read');
  else if (context.badKey) throw new AppError(ErrorCode.UNAUTHENTICATED, 'the API key is unknown or revoked');
}

/** Wraps every root Query field's resolver with the read check (every one, so a new query cannot skip it). */
export function guardQueries(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (root, args, context: Context, info) => {
      checkRead(context);
      return resolve(root, args, context, info);
    };
  }
  return schema;
}
