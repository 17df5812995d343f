import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { authChecker, guardQueries } from './auth.js';
import { CatalogResolver } from './resolvers/catalog.resolver.js';
import { ExperimentResolver, UserExperimentsResolver } from './resolvers/experiment.resolver.js';
import { ModelResolver } from './resolvers/model.resolver.js';
import { PostResolver } from './resolvers/post.resolver.js';
import { RecommendationResolver } from './resolvers/recommendation.resolver.js';
import { UserResolver } from './resolvers/user.resolver.js';

export const schemaFile = new URL('../../schema.graphql', import.meta.url);

let built: Promise<GraphQLSchema> | undefined;

export function graphqlSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [PostResolver, UserResolver, CatalogResolver, RecommendationResolver, ModelResolver, ExperimentResolver, UserExperimentsResolver],
    authChecker,
    authMode: 'error',
    validate: false,
  }).then(guardQueries);
  return built;
}

/** The SDL committed as schema.graphql (sorted, so the file changes only when the schema does). */
export async function schemaSdl(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await graphqlSchema()))}\n`;
}

/** Writes schema.graphql; returns whether it changed. */
export async function emitSchema(): Promise<boolean> {
  const sdl = await schemaSdl();
  let current = '';
  try {
    current = readFileSync(schemaFile, 'utf8');
  } catch {
    /* first emit */
  }
  if (current === sdl) return false;
  writeFileSync(schemaFile, sdl);
  return true;
}
