import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { Services } from '../domain/services.js';
import type { Logger } from '../lib/logger.js';
import type { Context } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import { inputPlugin, inputRules } from '../graphql/input-rules.js';
import { costPlugin, parseOptions, validationRules } from '../graphql/limits.js';
import { graphqlSchema } from '../graphql/schema.js';
import type { Metrics } from './metrics.js';

export interface ApolloOptions {
  metrics?: Metrics;
  /** Where automatic persisted queries are kept (apq-cache.ts); Apollo's in-memory cache when absent. */
  apqCache?: KeyValueCache<string>;
  /** More plugins (the change feed's publisher: app.ts). */
  plugins?: ApolloServerPlugin<Context>[];
}

/**
 * The Apollo server over our schema, with the query limits and automatic persisted queries; started, but not bound
 * to any transport (see http.ts).
 */
export async function createApollo(services: Services, logger: Logger, options: ApolloOptions = {}): Promise<ApolloServer<Context>> {
  const { metrics } = options;
  const schema = await graphqlSchema();
  const limits = services.config;
  const server = new ApolloServer<Context>({
    schema,
    formatError: formatError(services.config.development, logger),
    includeStacktraceInErrorResponses: services.config.development,
    introspection: true,
    stopOnTerminationSignals: false,
    // APQ: on (Apollo's default), here or in Redis.
    persistedQueries: options.apqCache ? { cache: options.apqCache } : {},
    parseOptions: parseOptions(limits),
    validationRules: [...validationRules(limits), ...inputRules],
    // We set no cache hints; the default cache-control plugin would still wrap every field resolver to compute them.
    plugins: [ApolloServerPluginCacheControlDisabled(), inputPlugin<Context>(), costPlugin<Context>(schema, limits), ...(metrics ? [metrics.apolloPlugin<Context>()] : []), ...(options.plugins ?? [])],
  });
  await server.start();
  return server;
}
