import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { baselines, decideServingSource, knownServingSource, resolveEmbedding, type EmbeddingView } from '../../domain/embeddings/embeddings.service.js';
import { maturityOf } from '../../domain/maturity/maturity.js';
import { badInput } from '../../errors.js';
import type { Context } from '../context.js';
import { toConnection } from '../types/connection.js';
import { EmbeddingSource } from '../types/enums.js';
import { PostFilter, RegisterPostInput } from '../types/inputs.js';
import { Embedding, Maturity, Post, PostConnection, ServingSource } from '../types/post.type.js';

function toEmbedding(signal: string, v: EmbeddingView): Embedding {
  return { signal, source: v.source, dim: v.vector.length, vector: Array.from(v.vector), modelVersion: v.modelVersion, views: v.views, computedAt: v.updatedAt };
}

@Resolver(() => Post)
export class PostResolver {
  @Query(() => Post, { nullable: true, description: 'A post by its id.' })
  async post(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Post | null> {
    return (await ctx.services.posts.byIds([id]))[0];
  }

  @Query(() => PostConnection, { description: 'Posts, newest first. filter: {signal, stage: EARLY} pages through the early-stage posts of a signal (the candidates a ranking stack scores with User.embedding).' })
  async posts(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 100.' }) first: number,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => PostFilter, { nullable: true }) filter?: PostFilter | null,
  ): Promise<PostConnection> {
    const { signal, ...rest } = filter ?? {};
    return toConnection(await ctx.services.posts.list(first, after, { ...rest, signal: signal == null ? null : await ctx.loaders.signal(signal) }));
  }

  @Authorized('write')
  @Mutation(() => Post, { description: 'Register an upload with its content features, or its raw media (media). Idempotent on id.' })
  async registerPost(@Arg('input', () => RegisterPostInput) input: RegisterPostInput, @Ctx() ctx: Context): Promise<Post> {
    const result = await ctx.services.uploads.registerOne(await ctx.services.media.prepare(input, 'input'));
    ctx.loaders.primeRegistered([result]);
    return result.post;
  }

  @Authorized('write')
  @Mutation(() => [Post], { description: 'Register a batch of uploads in one transaction (all or nothing).' })
  async registerPosts(@Arg('inputs', () => [RegisterPostInput]) inputs: RegisterPostInput[], @Ctx() ctx: Context): Promise<Post[]> {
    if (inputs.length > ctx.services.config.maxBatch) throw badInput(`at most ${ctx.services.config.maxBatch} posts per call, got ${inputs.length}`, { path: 'inputs' });
    const results = await ctx.services.uploads.register(await ctx.services.media.prepareAll(inputs, 'inputs'));
    ctx.loaders.primeRegistered(results);
    return results.map((r) => r.post);
  }

  @FieldResolver(() => Maturity)
  async maturity(@Root() post: Post, @Arg('signal', () => String) signalName: string, @Ctx() ctx: Context): Promise<Maturity> {
    const signal = await ctx.loaders.signal(signalName);
    const [stat, threshold] = await Promise.all([ctx.loaders.stat(post.key, signal.key), ctx.loaders.threshold(signal.key, post.mediaType)]);
    return { signal: signal.name, ...maturityOf(stat, threshold) };
  }

  @FieldResolver(() => Embedding, { nullable: true, description: 'The embedding for a signal; null where none exists yet.' })
  async embedding(
    @Root() post: Post,
    @Arg('signal', () => String) signalName: string,
    @Arg('source', () => EmbeddingSource, { defaultValue: 'AUTO' }) source: EmbeddingSource,
    @Ctx() ctx: Context,
  ): Promise<Embedding | null> {
    const signal = await ctx.loaders.signal(signalName);
    const view = await resolveEmbedding(ctx.loaders, post, signal, source);
    return view && toEmbedding(signal.name, view);
  }

  @FieldResolver(() => [ServingSource], {
    description: 'For each signal of the post\'s media type, the source AUTO serves it from (null: nothing yet). A post registered without an active model shows TAG_AVG or GLOBAL_AVG here.',
  })
  async servingSources(@Root() post: Post, @Ctx() ctx: Context): Promise<ServingSource[]> {
    const signals = [...(await ctx.loaders.signals()).values()].filter((s) => s.mediaTypes.includes(post.mediaType));
    // A fresh upload's sources are known without a load: no promise per signal for them.
    return Promise.all(
      signals.map((s) => {
        const known = knownServingSource(ctx.loaders, post, s);
        return known ? { signal: s.name, source: known } : decideServingSource(ctx.loaders, post, s).then((source) => ({ signal: s.name, source }));
      }),
    );
  }

  @FieldResolver(() => [Embedding], { description: 'GLOBAL_AVG, TAG_AVG and RANDOM for the signal (those that exist): control arms for A/B tests.' })
  async baselines(@Root() post: Post, @Arg('signal', () => String) signalName: string, @Ctx() ctx: Context): Promise<Embedding[]> {
    const signal = await ctx.loaders.signal(signalName);
    return (await baselines(ctx.loaders, post, signal)).map((v) => toEmbedding(signal.name, v));
  }
}
