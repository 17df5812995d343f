import { Arg, Authorized, Ctx, Field, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { activateVersion } from '../../domain/training/activation.js';
import type { Context } from '../context.js';

@ObjectType({ description: "What an activation switched over for one signal." })
export class Activation {
  @Field(() => String)
  signal!: string;

  @Field(() => String, { description: 'The backbone version (kind FFM: the FFM or the hybrid backbone, its metrics say which) now serving MATURE and user embeddings.' })
  ffm!: string;

  @Field(() => [String], { description: 'The MEMER versions now serving new posts, one per media type that has one.' })
  memer!: string[];

  @Field(() => Int)
  maturePosts!: number;

  @Field(() => Int)
  users!: number;

  @Field(() => Int, { description: 'Posts whose MEMER embedding was recomputed with the new models.' })
  memerPosts!: number;

  @Field(() => [String], { description: 'Checks that force overrode (a MEMER model whose validation GAUC is below its prior\'s), one line each.' })
  warnings!: string[];
}

@Resolver()
export class ModelResolver {
  @Authorized('admin')
  @Mutation(() => Activation, {
    description:
      "Activate a trained version (an FFM version, or a MEMER version: then its run's backbone and models) for its signal, atomically. Requests in flight finish on the previous models; a version that fails to load leaves them serving (MODEL_UNAVAILABLE). A MEMER model whose validation GAUC is below its prior's is refused (CONFLICT, extensions.reason BELOW_PRIOR) unless force is true.",
  })
  async activateModel(
    @Arg('version', () => String) version: string,
    @Arg('force', () => Boolean, { defaultValue: false, description: 'Activate even if a MEMER model validated below its prior.' }) force: boolean,
    @Ctx() ctx: Context,
  ): Promise<Activation> {
    return activateVersion(ctx.services, version, { force });
  }
}
