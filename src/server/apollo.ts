import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { Services } from '../domain/services.js';
import type { Logger } from '../lib/logger.js';
import type { Context } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import { graphqlSchema } from '../graphql/schema.js';

/** The Apollo server over our schema; started, but not bound to any transport (see http.ts). */
export async function createApollo(services: Services, logger: Logger): Promise<ApolloServer<Context>> {
  const server = new ApolloServer<Context>({
    schema: await graphqlSchema(),
    formatError: formatError(services.config.development, logger),
    includeStacktraceInErrorResponses: services.config.development,
    introspection: true,
    stopOnTerminationSignals: false,
    // We set no cache hints; the default cache-control plugin would still wrap every field resolver to compute them.
    plugins: [ApolloServerPluginCacheControlDisabled()],
  });
  await server.start();
  return server;
}
