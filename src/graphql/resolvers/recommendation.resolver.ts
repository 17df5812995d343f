import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { MaturityStatus, MediaType } from '../types/enums.js';
import { Recommendation } from '../types/recommendation.type.js';

@Resolver()
export class RecommendationResolver {
  @Query(() => [Recommendation], {
    description:
      'Top posts for a user and signal by v_user . v_post over every post (new uploads included), best first. Posts the user interacted with are excluded unless excludeSeen is false. A user without an embedding gets popularity fallbacks, which also top up a ranked list shorter than first; stage, mediaType and excludeSeen hold for every strategy. To score every early-stage post yourself, page through posts(filter: {signal, stage: EARLY}) and take the dot product with User.embedding(signal).',
  })
  async recommendations(
    @Arg('userId', () => ID) userId: string,
    @Arg('signal', () => String) signal: string,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20, description: '1 to MEMER_MAX_RECOMMENDATIONS (500 unless configured).' }) first: number,
    @Arg('stage', () => MaturityStatus, { nullable: true, description: 'EARLY: posts not served by a mature embedding (a MEMER prediction or a baseline); MATURE: the others (views reached M and the backbone has a MATURE vector).' }) stage?: MaturityStatus | null,
    @Arg('mediaType', () => MediaType, { nullable: true }) mediaType?: MediaType | null,
    @Arg('excludeSeen', () => Boolean, { defaultValue: true }) excludeSeen?: boolean,
  ): Promise<Recommendation[]> {
    return ctx.services.recommendations.recommend({ userId, signal, first, stage, mediaType, excludeSeen }, ctx.loaders);
  }
}
