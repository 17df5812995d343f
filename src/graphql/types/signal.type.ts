import { Field, Float, Int, ObjectType } from 'type-graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { MediaType, ModelKind, ModelStatus, SignalKind } from './enums.js';

@ObjectType({ description: 'A user action the platform logs (paper Figure 2a).' })
export class Signal {
  @Field(() => String)
  name!: string;

  @Field(() => SignalKind)
  kind!: keyof typeof SignalKind;

  @Field(() => [MediaType], { description: 'Media types the signal applies to.' })
  mediaTypes!: MediaType[];

  @Field(() => String)
  description!: string;
}

@ObjectType({ description: 'A trained model version in the registry.' })
export class ModelVersion {
  @Field(() => String)
  version!: string;

  @Field(() => ModelKind)
  kind!: keyof typeof ModelKind;

  @Field(() => String, { nullable: true })
  signal!: string | null;

  @Field(() => MediaType, { nullable: true })
  mediaType!: MediaType | null;

  @Field(() => ModelStatus)
  status!: keyof typeof ModelStatus;

  @Field(() => JSONObjectResolver)
  metrics!: Record<string, unknown>;

  @Field(() => Boolean)
  active!: boolean;

  @Field(() => DateTimeResolver)
  createdAt!: Date;

  @Field(() => DateTimeResolver, { nullable: true })
  activatedAt!: Date | null;
}

@ObjectType({ description: "Embedding maturity curve (paper Figure 1): mean cosine distance between consecutive snapshots of a post's embedding, by view count." })
export class MaturityCurve {
  @Field(() => String)
  signal!: string;

  @Field(() => MediaType)
  mediaType!: MediaType;

  @Field(() => Int, { nullable: true, description: 'The threshold M read from the curve.' })
  threshold!: number | null;

  @Field(() => Float, { nullable: true })
  epsilon!: number | null;

  @Field(() => [Int])
  views!: number[];

  @Field(() => [Float], { nullable: 'items', description: 'Mean cosine distance at each view count; null where no post reached it.' })
  distance!: (number | null)[];

  @Field(() => [Int], { description: 'Posts contributing to each point.' })
  count!: number[];

  @Field(() => DateTimeResolver)
  computedAt!: Date;
}
