import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import { Connection } from './connection.js';

@ObjectType({ description: "A user, addressed by the client's own id." })
export class User {
  key!: number;

  @Field(() => ID)
  id!: string;

  @Field(() => JSONObjectResolver)
  attributes!: Record<string, unknown>;

  @Field(() => DateTimeResolver)
  createdAt!: Date;
}

@ObjectType()
export class UserConnection extends Connection(User, 'User') {}

@ObjectType({
  description:
    "A user's served vector for one signal: the FFM backbone's user embedding v_user of the active run, the one recommendations rank with. " +
    'The serving score of a post is S = v_user . v_post, the plain dot product of this vector with Post.embedding(signal).vector (AUTO source): ' +
    "it equals recommendations' score for the EMBEDDING strategy. The backbone that memer train serves has no bias or linear terms (libffm's model): S is the whole score, with nothing to add.",
})
export class UserEmbedding {
  @Field(() => String)
  signal!: string;

  @Field(() => Int)
  dim!: number;

  @Field(() => [Float])
  vector!: number[];

  @Field(() => String, { nullable: true, description: 'The FFM version (training run) that produced it.' })
  modelVersion!: string | null;

  @Field(() => DateTimeResolver)
  computedAt!: Date;
}
