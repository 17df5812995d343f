import { Field, ID, InputType, Int } from 'type-graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { UploadedFile } from '../../domain/media/media-input.js';
import { MaturityStatus, MediaType } from './enums.js';
import type { FloatValues } from '../../lib/packed-floats.js';
import { FloatVector } from './scalars.js';

@InputType({
  description:
    "Pre-extracted content features (paper 2.2). Each vector's length must be the width the service expects for the post's media type: " +
    'MEMER_FEATURES_VIDEO / MEMER_FEATURES_IMAGE when set, else the width the active MEMER models were trained on, else that of the posts ' +
    "already stored, else, in a new installation, the built-in extractors' (visual 1280, audio 128, text the text model's) and the paper's " +
    "for the rest (aux 3; all of them, in brackets below, with MEMER_EXTRACTORS=off). A wrong length is a BAD_USER_INPUT error naming the expected width " +
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

@InputType({
  description:
    "A post's raw media file (an image for IMAGE posts, a video for VIDEO posts), turned into features by the built-in extractors " +
    '(docs/content-pipeline.md). Give exactly one of base64 (small files, inside the JSON) and file (a GraphQL multipart request; ' +
    'it needs the apollo-require-preflight header). What the file is comes from its bytes; a corrupt, truncated, unsupported or ' +
    'oversized file is a BAD_USER_INPUT whose extensions.reason names the problem (EMPTY, TRUNCATED, CORRUPT, UNSUPPORTED, TOO_LARGE, ' +
    'TOO_MANY_PIXELS, TOO_LONG, NO_VIDEO_STREAM, TIMEOUT), and nothing is stored.',
})
export class MediaInput {
  @Field(() => String, { nullable: true, description: 'The file in standard base64 (a data: URL prefix is accepted).' })
  base64?: string | null;

  @Field(() => GraphQLUpload, { nullable: true, description: 'The file as a part of a GraphQL multipart request.' })
  file?: Promise<UploadedFile> | null;

  @Field(() => String, { nullable: true, description: 'Declared type, e.g. image/jpeg: only quoted in messages (the bytes decide).' })
  mimeType?: string | null;

  @Field(() => String, { nullable: true, description: 'File name: only quoted in messages.' })
  filename?: string | null;
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

  @Field(() => FeaturesInput, { nullable: true, description: 'Pre-extracted features; a vector given here wins over the one media would give for its modality.' })
  features?: FeaturesInput | null;

  @Field(() => MediaInput, {
    nullable: true,
    description:
      'The raw image or video: decoded, passed through the built-in extractors (visual; audio for videos; text from the text, tags and OCR when the installation has a text model) ' +
      'and run through MEMER within this request. Fills the feature modalities not given in features.',
  })
  media?: MediaInput | null;
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

  @Field(() => ID, {
    nullable: true,
    description:
      'The client\'s id of this interaction (1-128 printable ASCII characters), for retries: an input whose eventId is already stored, or repeated earlier in the batch, is skipped (counted in `duplicates`), so a retried batch records nothing twice.',
  })
  eventId?: string | null;
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
