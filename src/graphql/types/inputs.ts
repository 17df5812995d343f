import { Field, ID, InputType, Int } from 'type-graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { MediaType } from './enums.js';
import type { FloatValues } from '../../lib/packed-floats.js';
import { FloatVector } from './scalars.js';

@InputType({ description: 'Pre-extracted content features (paper 2.2); dimensions must match the service configuration.' })
export class FeaturesInput {
  @Field(() => FloatVector, { nullable: true, description: 'Visual: 2048-d ResNeXt3D for videos, 2208-d DenseNet161 for images (defaults).' })
  visual?: FloatValues | null;

  @Field(() => FloatVector, { nullable: true, description: 'Audio: 128-d VGGish (videos only).' })
  audio?: FloatValues | null;

  @Field(() => FloatVector, { nullable: true, description: 'Text: 100-d FastText of the text read from the frames.' })
  text?: FloatValues | null;

  @Field(() => FloatVector, { nullable: true, description: 'Auxiliary numeric features.' })
  aux?: FloatValues | null;
}

@InputType()
export class RegisterPostInput {
  @Field(() => ID, { description: "The client's own id; registering the same id again with the same payload is a no-op." })
  id!: string;

  @Field(() => MediaType)
  mediaType!: MediaType;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => String, { nullable: true })
  text?: string | null;

  @Field(() => DateTimeResolver, { nullable: true, description: 'Upload time; defaults to now.' })
  createdAt?: Date | null;

  @Field(() => FeaturesInput, { nullable: true })
  features?: FeaturesInput | null;
}

@InputType()
export class InteractionInput {
  @Field(() => ID, { description: 'Unknown users are created.' })
  userId!: string;

  @Field(() => ID)
  postId!: string;

  @Field(() => String, { description: 'Signal name, e.g. click, like, share, favorite, video_play, skip.' })
  signal!: string;

  @Field(() => Int, { nullable: true, description: '1 positive (default), 0 explicit negative.' })
  label?: number | null;

  @Field(() => DateTimeResolver, { nullable: true, description: 'Defaults to now.' })
  timestamp?: Date | null;
}

@InputType()
export class UserInput {
  @Field(() => ID)
  id!: string;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'Replaces the stored attributes when given.' })
  attributes?: Record<string, unknown> | null;
}

@InputType()
export class PostFilter {
  @Field(() => MediaType, { nullable: true })
  mediaType?: MediaType | null;

  @Field(() => String, { nullable: true })
  tag?: string | null;

  @Field(() => DateTimeResolver, { nullable: true })
  createdAfter?: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  createdBefore?: Date | null;
}
