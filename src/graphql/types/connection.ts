/** Relay connections: `edges { cursor node }` and `pageInfo { hasNextPage endCursor }`. */
import { Field, ObjectType, type ClassType } from 'type-graphql';
import type { Page } from '../../domain/pagination.js';

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
}

export function Connection<T extends object>(Node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => Node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Conn implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;
  }
  return Conn;
}

export function toConnection<T>(page: Page<T>): ConnectionShape<T> {
  return {
    edges: page.nodes.map((node, i) => ({ cursor: page.cursors[i], node })),
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
  };
}
