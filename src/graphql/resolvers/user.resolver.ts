import { Arg, Authorized, Ctx, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { bytesToVector } from '../../lib/vectors.js';
import type { Context } from '../context.js';
import { toConnection } from '../types/connection.js';
import { InteractionInput, UserInput } from '../types/inputs.js';
import { User, UserConnection, UserEmbedding } from '../types/user.type.js';

@ObjectType()
export class RecordInteractionsResult {
  @Field(() => Int)
  recorded!: number;

  @Field(() => Int, { description: 'Users that did not exist before and were created.' })
  usersCreated!: number;

  @Field(() => Int, { description: 'Distinct post and signal pairs whose statistics were updated.' })
  posts!: number;

  @Field(() => Int, { description: 'Inputs not recorded because their eventId was already stored or came earlier in the batch (a retry).' })
  duplicates!: number;
}

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { nullable: true })
  async user(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<User | null> {
    return (await ctx.services.users.byIds([id]))[0];
  }

  @Query(() => UserConnection, { description: 'Users ordered by id.' })
  async users(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 100.' }) first: number,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<UserConnection> {
    return toConnection(await ctx.services.users.list(first, after));
  }

  @FieldResolver(() => UserEmbedding, {
    nullable: true,
    description:
      "The user's served vector for a signal (see UserEmbedding): score any post yourself with S = embedding(signal).vector . Post.embedding(signal).vector, e.g. every early-stage post from posts(filter: {signal, stage: EARLY}). " +
      'Null when the user has no embedding for the signal (no interaction with it in the last activated training run, or the signal was never trained); an unknown signal is a BAD_USER_INPUT error.',
  })
  async embedding(@Root() user: User, @Arg('signal', () => String) signalName: string, @Ctx() ctx: Context): Promise<UserEmbedding | null> {
    const signal = await ctx.loaders.signal(signalName);
    const stored = await ctx.loaders.userEmbedding(user.key, signal.key);
    if (!stored) return null;
    return { signal: signal.name, dim: stored.dim, vector: Array.from(bytesToVector(stored.vector)), modelVersion: stored.modelVersion, computedAt: stored.updatedAt };
  }

  @Authorized('write')
  @Mutation(() => [User], { description: 'Create users or replace their attributes.' })
  async upsertUsers(@Arg('inputs', () => [UserInput]) inputs: UserInput[], @Ctx() ctx: Context): Promise<User[]> {
    return ctx.services.users.upsert(inputs);
  }

  @Authorized('write')
  @Mutation(() => RecordInteractionsResult, {
    description:
      'Record a batch of interactions in one transaction; unknown users are created. Any invalid element fails the whole batch. Inputs with an eventId already stored are skipped: retrying a batch with the same eventIds records nothing twice.',
  })
  async recordInteractions(@Arg('inputs', () => [InteractionInput]) inputs: InteractionInput[], @Ctx() ctx: Context): Promise<RecordInteractionsResult> {
    return ctx.services.uploads.record(inputs);
  }
}
