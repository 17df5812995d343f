import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getIntrospectionQuery, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { defaults } from '../../src/config/config.js';
import { costEstimator, costShape } from '../../src/graphql/cost.js';
import { graphqlSchema } from '../../src/graphql/schema.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const aliased = (n: number, field: (i: number) => string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`;
const POSTS_WITH_VECTORS = 'posts(first: 100) { edges { node { id embedding(signal: "click") { vector } } } }';
const FULL_POST = 'post { id mediaType tags maturity(signal: "click") { status views } embedding(signal: "click") { source vector } baselines(signal: "click") { source } servingSources { signal source } }';

/** The cost our model gives a document under the default bounds (no execution). */
async function costOf(query: string, variables: Record<string, unknown> = {}): Promise<number> {
  return getComplexity({ schema: await graphqlSchema(), query: parse(query), variables, estimators: [costEstimator(defaults)] });
}

for (const provider of PROVIDERS) {
  describe(`query limits on ${provider}`, () => {
    let h: Harness;
    before(async () => (h = await harness(provider)));
    after(() => h.close());

    /** Runs anonymously (no key lookup) and returns the error and the SQL statements the request sent. */
    const rejected = async (query: string, variables?: Record<string, unknown>) => {
      h.queries.length = 0;
      const err = await h.fails('QUERY_TOO_COMPLEX', query, variables, null);
      return { err, sql: h.queries.length };
    };

    test('200 aliased posts(first: 100) with vectors (the 17 KB attack) are refused before any SQL runs', async () => {
      const { err, sql } = await rejected(aliased(200, () => POSTS_WITH_VECTORS));
      assert.deepEqual({ ...err.extensions }, { code: 'QUERY_TOO_COMPLEX', limit: 'aliases', max: 30, actual: 200 });
      assert.match(err.message, /MEMER_MAX_ALIASES/);
      assert.equal(sql, 0);
    });

    test('under the alias limit, the cost model refuses what list sizes make expensive, with variables too', async () => {
      // 30 x posts(first: 100) x (connection + edge + node + embedding) = 12,000 > 10,000.
      const { err, sql } = await rejected(aliased(30, () => POSTS_WITH_VECTORS));
      assert.deepEqual({ ...err.extensions }, { code: 'QUERY_TOO_COMPLEX', limit: 'cost', max: 10_000, actual: 12_000 });
      assert.equal(sql, 0);
      const query = `query($n: Int!) ${aliased(30, () => 'posts(first: $n) { edges { node { id embedding(signal: "click") { vector } } } }')}`;
      assert.equal((await rejected(query, { n: 100 })).err.extensions.actual, 12_000);
      // The same document with small pages runs.
      const data = await h.ok(query, { n: 2 }, null);
      assert.equal(Object.keys(data).length, 30);
      // Fields dropped by @include(if: false) cost nothing; the same document with true is refused.
      const optional = `query($big: Boolean!) ${aliased(30, () => `${POSTS_WITH_VECTORS.replace('posts(first: 100)', 'posts(first: 100) @include(if: $big)')}`)}`;
      assert.deepEqual(await h.ok(optional, { big: false }, null), {});
      assert.equal((await rejected(optional, { big: true })).err.extensions.actual, 12_000);
      // 30 x recommendations(first: 500) { post { id } }: 30 x 500 x 2.
      const recs = await rejected(aliased(30, () => 'recommendations(userId: "u", signal: "click", first: 500) { post { id } score }'));
      assert.equal(recs.err.extensions.actual, 30_000);
    });

    test('depth (introspection included), directives and tokens have limits too', async () => {
      let nested = 'name';
      for (let i = 0; i < 20; i++) nested = `ofType { ${nested} }`;
      const deep = await rejected(`{ __type(name: "Post") { fields { type { ${nested} } } } }`);
      assert.equal(deep.err.extensions.limit, 'depth');
      assert.equal(deep.err.extensions.max, 15);
      const directives = await rejected(`{ signals { name ${Array.from({ length: 51 }, () => '... @include(if: true) { name }').join(' ')} } }`);
      assert.deepEqual({ ...directives.err.extensions }, { code: 'QUERY_TOO_COMPLEX', limit: 'directives', max: 50, actual: 51 });
      // Over 10,000 tokens: the parser stops there.
      const tokens = await rejected(`{ signals { ${'name '.repeat(10_001)} } }`);
      assert.deepEqual({ ...tokens.err.extensions }, { code: 'QUERY_TOO_COMPLEX', limit: 'tokens', max: 10_000 });
    });

    test('what real clients send passes: introspection, recommendations(first: 500) with every post field, README queries', async () => {
      const schema = await h.ok(getIntrospectionQuery(), {}, null);
      assert.ok(schema.__schema.types.length > 10);
      await h.ok(`{ recommendations(userId: "u0001", signal: "click", first: 500) { ${FULL_POST} score source strategy } }`, {}, null);
      await h.ok(`{ post(id: "post-1") { maturity(signal: "click") { status views threshold progress } embedding(signal: "click") { source vector } baselines(signal: "click") { source } } }`, {}, null);
      await h.ok(`{ posts(first: 100) { edges { cursor node { id maturity(signal: "click") { status } embedding(signal: "click") { vector } baselines(signal: "click") { source } } } pageInfo { hasNextPage endCursor } } }`, {}, null);
      await h.ok(`{ signals { name } models { version } users(first: 100) { edges { node { id embedding(signal: "click") { vector } } } } }`, {}, null);
    });

    test('a page size past the field\'s own bound is still BAD_USER_INPUT, not QUERY_TOO_COMPLEX', async () => {
      await h.fails('BAD_USER_INPUT', `{ posts(first: 1000000) { edges { node { id embedding(signal: "click") { vector } } } } }`, {}, null);
      await h.fails('BAD_USER_INPUT', `{ recommendations(userId: "u", signal: "click", first: 100000) { post { id } } }`, {}, null);
    });

    test('a null for a non-null argument with a default (JSON NaN and Infinity become null) is BAD_USER_INPUT', async () => {
      const err = await h.fails('BAD_USER_INPUT', 'query($x: Int) { posts(first: $x) { edges { cursor } } }', { x: null }, null);
      assert.match(err.message, /Argument "first" of non-null type "Int!" must not be null/);
      await h.fails('BAD_USER_INPUT', 'query($x: Int = null) { recommendations(userId: "u", signal: "click", first: $x) { score } }', {}, null);
      await h.fails('BAD_USER_INPUT', 'query($x: Boolean) { recommendations(userId: "u", signal: "click", excludeSeen: $x) { score } }', { x: null }, null);
    });
  });
}

describe('query limits are configurable', () => {
  let h: Harness;
  before(async () => (h = await harness('sqlite', { maxAliases: 0, maxCost: 50, maxTokens: 300, maxDepth: 3 })));
  after(() => h.close());

  test('0 turns a limit off; lower limits refuse more; batches cost their inputs', async () => {
    await h.ok(aliased(40, () => 'signals { name }'), {}, null);
    const depth = await h.fails('QUERY_TOO_COMPLEX', '{ posts { edges { node { maturity(signal: "click") { status } } } } }', {}, null);
    assert.equal(depth.extensions.limit, 'depth');
    const tokens = await h.fails('QUERY_TOO_COMPLEX', `{ signals { ${'name '.repeat(300)} } }`, {}, null);
    assert.deepEqual([tokens.extensions.limit, tokens.extensions.max], ['tokens', 300]);
    const batch = (n: number) => ({ inputs: Array.from({ length: n }, (_, i) => ({ userId: `u${i}`, postId: 'p', signal: 'click' })) });
    const RECORD = 'mutation($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { recorded } }';
    const over = await h.fails('QUERY_TOO_COMPLEX', RECORD, batch(51));
    assert.deepEqual([over.extensions.limit, over.extensions.actual], ['cost', 51]);
    await h.ok('mutation { registerPost(input: {id: "p", mediaType: IMAGE}) { id } }');
    assert.deepEqual((await h.ok(RECORD, batch(50))).recordInteractions, { recorded: 50 });
    // Costs are remembered by the variables' shape: a batch of 50 costed (and cached) does not let 51 through.
    const again = await h.fails('QUERY_TOO_COMPLEX', RECORD, batch(51));
    assert.equal(again.extensions.actual, 51);
    assert.deepEqual((await h.ok(RECORD, batch(50))).recordInteractions, { recorded: 50 });
  });

  test('with the cost check off, graphql-js\'s own argument error during execution is still BAD_USER_INPUT', async () => {
    const off = await harness('sqlite', { maxCost: 0 });
    try {
      const err = await off.fails('BAD_USER_INPUT', 'query($x: Int) { posts(first: $x) { edges { cursor } } }', { x: null }, null);
      assert.deepEqual(err.path, ['posts']);
    } finally {
      await off.close();
    }
  });
});

test('the cost model: objects 1, scalars 0, list fields and batches times their first or inputs, up to the service bounds', async () => {
  assert.equal(await costOf('{ signals { name } }'), 1);
  assert.equal(await costOf('{ posts(first: 10) { edges { node { id } } } }'), 30);
  assert.equal(await costOf('{ posts(first: 0) { edges { cursor } } }'), 2);
  assert.equal(await costOf('{ posts(first: 5000) { edges { cursor } } }'), 200);
  assert.equal(await costOf(`{ recommendations(userId: "u", signal: "click", first: 500) { ${FULL_POST} } }`), 3000);
  const inputs = Array.from({ length: 1000 }, (_, i) => ({ id: `p${i}`, mediaType: 'IMAGE' }));
  const full = 'mutation($inputs: [RegisterPostInput!]!) { registerPosts(inputs: $inputs) { id servingSources { signal source } maturity(signal: "click") { status } embedding(signal: "click") { vector } } }';
  assert.equal(await costOf(full, { inputs }), 4000);
  assert.ok((await costOf(full, { inputs })) <= defaults.maxCost, 'a full batch with every field fits the default');
});

test('cost shape: list lengths and numbers, never strings or list elements (what the estimator reads)', () => {
  const a = costShape({ first: 10, inputs: [{ userId: 'u1', postId: 'p' }, { userId: 'u2', postId: 'q' }], s: 'x' });
  const b = costShape({ s: 'another', inputs: [{ userId: 'zz' }, { postId: 'p' }], first: 10 });
  assert.deepEqual(a, b, 'key order, strings and elements do not matter');
  assert.notDeepEqual(costShape({ inputs: [1, 2, 3] }), costShape({ inputs: [1, 2] }));
  assert.notDeepEqual(costShape({ first: 10 }), costShape({ first: 11 }));
  assert.deepEqual(costShape({ input: { id: 'p', media: { base64: 'x'.repeat(1000) } } }), { input: { id: '', media: { base64: '' } } });
});
