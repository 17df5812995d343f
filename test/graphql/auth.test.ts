import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allows } from '../../src/domain/keys/keys.service.js';
import { AppError, ErrorCode } from '../../src/errors.js';
import { createContext } from '../../src/graphql/context.js';
import { graphqlSchema } from '../../src/graphql/schema.js';
import { harness, type Harness } from '../helpers/harness.js';

const REGISTER = `mutation { registerPost(input: {id: "a1", mediaType: IMAGE}) { id } }`;

describe('access control', () => {
  let h: Harness;
  before(async () => (h = await harness('sqlite')));
  after(() => h.close());

  test('scopes nest: admin > write > read', () => {
    assert.ok(allows(['admin'], 'write'));
    assert.ok(allows(['write'], 'read'));
    assert.ok(!allows(['read'], 'write'));
    assert.ok(!allows(['write'], 'admin'));
  });

  test('mutations: no key -> UNAUTHENTICATED, wrong key -> UNAUTHENTICATED, read key -> FORBIDDEN, write key -> ok', async () => {
    await h.fails('UNAUTHENTICATED', REGISTER, {}, null);
    await h.fails('UNAUTHENTICATED', REGISTER, {}, 'mk_000000000000_' + 'x'.repeat(43));
    await h.fails('UNAUTHENTICATED', REGISTER, {}, h.keys.write.slice(0, -1) + (h.keys.write.endsWith('A') ? 'B' : 'A'));
    await h.fails('FORBIDDEN', REGISTER, {}, h.keys.read);
    await h.ok(REGISTER, {}, h.keys.write);
    assert.equal(await h.services.db.prisma.post.count(), 1);
  });

  test('reads are open by default, but a bad key is still refused', async () => {
    await h.ok(`{ signals { name } }`, {}, null);
    await h.fails('UNAUTHENTICATED', `{ signals { name } }`, {}, 'mk_nonsense');
  });

  test('a revoked key stops working', async () => {
    const { key, info } = await h.services.keys.create(['write'], 'short-lived');
    await h.ok(`mutation { upsertUsers(inputs: [{id: "x"}]) { id } }`, {}, key);
    await h.services.keys.revoke(info.prefix);
    await h.fails('UNAUTHENTICATED', `mutation { upsertUsers(inputs: [{id: "y"}]) { id } }`, {}, key);
    const listed = (await h.services.keys.list()).find((k) => k.prefix === info.prefix)!;
    assert.ok(listed.revokedAt);
    // Only the hash is stored.
    const row = await h.services.db.prisma.apiKey.findUniqueOrThrow({ where: { prefix: info.prefix } });
    assert.ok(!key.includes(row.hash) && row.hash.length === 64);
  });
});

describe('access control with MEMER_READ_ACCESS=key', () => {
  let h: Harness;
  before(async () => (h = await harness('sqlite', { readAccess: 'key' })));
  after(() => h.close());

  test('queries need a key with the read scope', async () => {
    await h.fails('UNAUTHENTICATED', `{ signals { name } }`, {}, null);
    await h.ok(`{ signals { name } }`, {}, h.keys.read);
    await h.ok(`{ posts { edges { cursor } } }`, {}, h.keys.write);
  });

  test('every root query field checks the key before it resolves (new queries included)', async () => {
    const schema = await graphqlSchema();
    const fields = Object.values(schema.getQueryType()!.getFields());
    assert.ok(fields.length >= 8);
    const anonymous = await createContext(h.services, undefined);
    for (const field of fields) {
      assert.throws(() => field.resolve!({}, {}, anonymous, {} as never), (e: AppError) => e.code === ErrorCode.UNAUTHENTICATED, field.name);
    }
  });
});

describe('error responses', () => {
  let h: Harness;
  before(async () => (h = await harness('sqlite')));
  after(() => h.close());

  test('carry no stack traces outside development mode, and unknown failures are INTERNAL_SERVER_ERROR', async () => {
    const err = await h.fails('BAD_USER_INPUT', `{ posts(first: 0) { edges { cursor } } }`);
    assert.equal(err.extensions.stacktrace, undefined);
    await h.services.db.prisma.$executeRawUnsafe('DROP TABLE "PostTag"');
    const internal = await h.fails('INTERNAL_SERVER_ERROR', `{ posts { edges { cursor } } }`);
    assert.equal(internal.message, 'internal server error');
    assert.equal(internal.extensions.stacktrace, undefined);
  });

  test('GraphQL validation errors keep their own code', async () => {
    await h.fails('GRAPHQL_VALIDATION_FAILED', `{ nope }`);
  });
});
