import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { EmbeddingSource, MaturityStatus, MediaType } from './enums.js';
import { Connection } from './connection.js';

@ObjectType({ description: 'A post (video or image), addressed by the id the client registered it with.' })
export class Post {
  /** Internal row key: loaders use it; it is not a GraphQL field. */
  key!: number;

  @Field(() => ID, { description: "The client's own id." })
  id!: string;

  @Field(() => MediaType)
  mediaType!: MediaType;

  @Field(() => [String])
  tags!: string[];

  @Field(() => String)
  text!: string;

  @Field(() => DateTimeResolver, { description: 'When the client created (uploaded) the post.' })
  createdAt!: Date;

  @Field(() => DateTimeResolver, { description: 'When this service first stored it.' })
  registeredAt!: Date;
}

@ObjectType({ description: "A post's maturity for one signal (paper Figure 1): EARLY until its views reach the threshold M." })
export class Maturity {
  @Field(() => String)
  signal!: string;

  @Field(() => MaturityStatus)
  status!: MaturityStatus;

  @Field(() => Int, { description: 'Interactions recorded for this post and signal.' })
  views!: number;

  @Field(() => Int, { description: 'Positive interactions among them.' })
  positives!: number;

  @Field(() => Int, { nullable: true, description: 'The maturity threshold M for the signal and media type; null until estimated.' })
  threshold!: number | null;

  @Field(() => Float, { description: 'views / M, capped at 1 (0 without a threshold).' })
  progress!: number;

  @Field(() => DateTimeResolver, { nullable: true })
  firstSeen!: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  lastSeen!: Date | null;
}

@ObjectType({ description: 'An embedding vector and where it came from.' })
export class Embedding {
  @Field(() => String)
  signal!: string;

  @Field(() => EmbeddingSource, { description: 'The source that produced this vector (never AUTO).' })
  source!: EmbeddingSource;

  @Field(() => Int)
  dim!: number;

  @Field(() => [Float])
  vector!: number[];

  @Field(() => String, { nullable: true, description: 'Model version that produced a stored vector.' })
  modelVersion!: string | null;

  @Field(() => Int, { nullable: true, description: 'Views of the post when a stored vector was computed.' })
  views!: number | null;

  @Field(() => DateTimeResolver, { nullable: true })
  computedAt!: Date | null;
}

@ObjectType({ description: 'Which source serves a post for a signal.' })
export class ServingSource {
  @Field(() => String)
  signal!: string;

  @Field(() => EmbeddingSource, { nullable: true })
  source!: EmbeddingSource | null;
}

@ObjectType()
export class PostConnection extends Connection(Post, 'Post') {}
