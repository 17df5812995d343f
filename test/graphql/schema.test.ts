import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { schemaFile, schemaSdl } from '../../src/graphql/schema.js';

test('schema.graphql matches the type-graphql classes (run `npm run memer -- db generate` to re-emit)', async () => {
  assert.equal(readFileSync(schemaFile, 'utf8'), await schemaSdl());
});

test('the schema has the surfaces clients rely on', async () => {
  const sdl = await schemaSdl();
  for (const field of ['post(id: ID!): Post', 'posts(', 'user(id: ID!): User', 'users(', 'signals: [Signal!]!', 'models(', 'maturityCurve(', 'registerPost(input: RegisterPostInput!): Post!', 'registerPosts(', 'recordInteractions(', 'upsertUsers(']) {
    assert.ok(sdl.includes(field), `missing ${field}`);
  }
  assert.doesNotMatch(sdl, /\bkey\b/, 'internal keys must not appear in the schema');
});
