import { Field, ID, ObjectType } from 'type-graphql';
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
