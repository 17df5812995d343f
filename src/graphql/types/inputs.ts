import { Field, ID, InputType, Int } from 'type-graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { MaturityStatus, MediaType } from './enums.js';
import type { FloatValues } from '../../lib/packed-floats.js';
import { FloatVector } from './scalars.js';

@InputType({
  description:
    "Pre-extracted content features (paper 2.2). Each vector's length must be the width the service expects for the post's media type: " +
    'MEMER_FEATURES_VIDEO / MEMER_FEATURES_IMAGE when set, else the width the active MEMER models were trained on, else that of the posts ' +
    "already stored, else the paper's default (in brackets below). A wrong length is a BAD_USER_INPUT error naming the expected width " +
    '(extensions.expected) and the input (extensions.path).',
})
export class FeaturesInput {
  @Field(() => FloatVector, { nullable: true, description: 'Visual, e.g. ResNeXt3D for videos [2048], DenseNet161 for images [2208].' })
  visual?: FloatValues | null;

  @Field(() => FloatVector, { nullable: true, description: 'Audio, e.g. VGGish [128; by default videos only].' })
  audio?: FloatValues | null;

  @Field(() => FloatVector, {
    nullable: true,
    description:
      'Text, e.g. FastText of the text read from the frames [100]. A media type whose active MEMER model was trained with `memer train --hash-text` reads a hashed feature of the post\'s text and tags instead, which the service computes; a vector given here is then stored but not read by that model.',
  })
  text?: FloatValues | null;

  @Field(() => FloatVector, { nullable: true, description: 'Auxiliary numeric features [3].' })
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

  @Field(() => String, { nullable: true, description: 'Only posts of the media types this signal applies to; needed by stage.' })
  signal?: string | null;

  @Field(() => MaturityStatus, {
    nullable: true,
    description:
      "Only posts at this stage for `signal`, as recommendations' stage argument: EARLY = not served by a mature embedding (a MEMER prediction or a baseline), MATURE = the others. " +
      'With stage EARLY the connection pages through every early-stage candidate, newest first, for a ranking stack that scores them itself (embedding(signal) . User.embedding(signal)).',
  })
  stage?: MaturityStatus | null;
}
