import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { MaturityStatus, MediaType } from '../types/enums.js';
import { Recommendation } from '../types/recommendation.type.js';

@Resolver()
export class RecommendationResolver {
  @Query(() => [Recommendation], {
    description:
      'Top posts for a user and signal by v_user . v_post over every post (new uploads included), best first. Posts the user interacted with are excluded unless excludeSeen is false. A user without an embedding gets popularity fallbacks.',
  })
  async recommendations(
    @Arg('userId', () => ID) userId: string,
    @Arg('signal', () => String) signal: string,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to 500.' }) first: number,
    @Arg('stage', () => MaturityStatus, { nullable: true, description: 'EARLY: posts not served by a mature embedding; MATURE: the others.' }) stage?: MaturityStatus | null,
    @Arg('mediaType', () => MediaType, { nullable: true }) mediaType?: MediaType | null,
    @Arg('excludeSeen', () => Boolean, { defaultValue: true }) excludeSeen?: boolean,
  ): Promise<Recommendation[]> {
    return ctx.services.recommendations.recommend({ userId, signal, first, stage, mediaType, excludeSeen }, ctx.loaders);
  }
}
