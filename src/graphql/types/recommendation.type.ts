import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { EmbeddingSource } from './enums.js';
import { Post } from './post.type.js';

export const RecommendationStrategy = { EMBEDDING: 'EMBEDDING', POPULAR_IN_TAGS: 'POPULAR_IN_TAGS', POPULAR_EARLY: 'POPULAR_EARLY' } as const;
registerEnumType(RecommendationStrategy, {
  name: 'RecommendationStrategy',
  valuesConfig: {
    EMBEDDING: { description: 'Ranked by v_user . v_post (paper eq. 13).' },
    POPULAR_IN_TAGS: { description: "Fallback for a user without an embedding: most positives among posts sharing tags with the user's recent interactions." },
    POPULAR_EARLY: { description: 'Fallback: most positives among early-stage posts.' },
  },
});

@ObjectType()
export class Recommendation {
  @Field(() => Post)
  post!: Post;

  @Field(() => Float, { description: 'v_user . v_post for EMBEDDING; the positive count for popularity fallbacks.' })
  score!: number;

  @Field(() => EmbeddingSource, { nullable: true, description: "The post embedding's source (null for fallbacks)." })
  source!: keyof typeof EmbeddingSource | null;

  @Field(() => RecommendationStrategy)
  strategy!: keyof typeof RecommendationStrategy;

  @Field(() => String, { nullable: true, description: 'The experiment whose arm ranked this list (null: the user is in none for the signal).' })
  experiment!: string | null;

  @Field(() => String, { nullable: true, description: "The user's arm in it." })
  arm!: string | null;
}
