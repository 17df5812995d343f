/**
 * A generated corpus of malformed and hostile requests, each with the error code it must be refused with: bad JSON,
 * bodies that are not GraphQL requests, syntax and validation errors, query-limit bombs, wrong types, huge numbers,
 * NaN and Infinity in vectors (as JSON serializers send them: null, or 1e400), 10 MB strings, deeply nested
 * variables, unknown signals, ids with control characters, batches over the limit, and valid batches with one bad
 * element at the start, middle or end. bad-input.test.ts runs it against a live server.
 */
import { packFloats } from '../../src/lib/packed-floats.js';
import { features } from '../helpers/harness.js';
import { rng } from './live-server.js';

export interface BadRequest {
  name: string;
  /** The raw body. */
  body: string;
  /** Authorization: the write key (default), the read key, none, or a header value of its own. */
  auth?: 'write' | 'read' | 'none' | { header: string };
  contentType?: string | null;
  method?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** The query string (GET). */
  search?: string;
  /** The first error's extensions.code; 'none' for a read that must simply answer (nothing found), without error. */
  code: string;
  /** The HTTP status, where the case pins it. */
  status?: number;
  /** Node refuses the request before our handler runs (431, no JSON body): only this status is checked. */
  rawStatus?: number;
}

export interface Fixtures {
  /** A stored VIDEO post and an IMAGE post. */
  video: string;
  image: string;
  /** A user that exists (has attributes). */
  user: string;
}

export const MB10 = 10 * 1024 * 1024;

const BAD = 'BAD_USER_INPUT';
const PARSE = 'GRAPHQL_PARSE_FAILED';
const INVALID = 'GRAPHQL_VALIDATION_FAILED';
const TOO_COMPLEX = 'QUERY_TOO_COMPLEX';
/** Apollo's refusals of a body that is not a GraphQL request (and of a persisted query it cannot use). */
const BAD_REQUEST = 'BAD_REQUEST';

/**
 * Raw JSON text spliced into a body where a marker value stands: 1e400 (which JSON.parse reads as Infinity), or
 * nesting too deep for JSON.stringify.
 */
const raws: string[] = [];
const RAW = (text: string) => `@@RAW:${raws.push(text) - 1}@@`;
const json = (value: unknown) => JSON.stringify(value).replace(/"@@RAW:(\d+)@@"/g, (_, i: string) => raws[Number(i)]);
const op = (query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}) => json({ query, variables, ...extra });

const REGISTER = 'mutation Reg($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { signal source } } }';
const REGISTER_MANY = 'mutation RegMany($i: [RegisterPostInput!]!) { registerPosts(inputs: $i) { id } }';
const RECORD = 'mutation Rec($i: [InteractionInput!]!) { recordInteractions(inputs: $i) { recorded usersCreated } }';
const UPSERT = 'mutation Ups($i: [UserInput!]!) { upsertUsers(inputs: $i) { id attributes } }';

/** {"a": {"a": ... 1}} as JSON text (JSON.stringify itself overflows the stack at ~100,000 levels). */
const deepText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
/** [[[... leaf]]] spliced in as JSON text. */
const deepList = (levels: number, leaf: unknown): string => RAW(`${'['.repeat(levels)}${JSON.stringify(leaf)}${']'.repeat(levels)}`);
const f32 = (values: number[]) => packFloats(values, 'f32');
/** Raw float16 bits packed as "f16:": infinities and NaN exactly as a client's bytes would carry them. */
const f16bits = (bits: number[]) => `f16:${Buffer.from(Uint16Array.from(bits).buffer).toString('base64')}`;

export function corpus(fx: Fixtures): BadRequest[] {
  const cases: BadRequest[] = [];
  const add = (c: BadRequest) => cases.push(c);
  const huge = 'x'.repeat(MB10);
  let n = 0;
  const fresh = (kind: string) => `bad-${kind}-${n++}`;
  const video = () => ({ id: fresh('v'), mediaType: 'VIDEO', tags: ['comedy'], text: 'a post', features: { visual: features(8, n), audio: features(4, n), text: features(3, n) } });
  const image = () => ({ id: fresh('i'), mediaType: 'IMAGE', tags: ['cats'], features: { visual: features(6, n), text: features(3, n) } });

  // Ids no write may accept (post ids, user ids): control characters, spaces, non-ASCII, ill-formed UTF-16, too long.
  const badIds: [string, unknown][] = [
    ['empty', ''], ['space', ' '], ['inner space', 'a b'], ['NUL', '\u0000'], ['inner NUL', 'a\u0000b'], ['newline', 'a\nb'], ['tab', '\tid'],
    ['DEL', 'a\u007f'], ['escape sequence', '\u001b[31mred'], ['carriage return', 'id\r'], ['bell', '\u0007'], ['non-ASCII', 'café'], ['emoji', '😀'],
    ['lone high surrogate', 'a\uD800'], ['lone low surrogate', '\uDFFFb'], ['zero-width space', 'a\u200bb'], ['RTL override', '\u202eabc'],
    ['129 characters', 'x'.repeat(129)], ['boolean', true], ['object', {}], ['list', ['a']], ['float', 1.5], ['null', null],
  ];

  // ---- The transport: bodies that are not JSON, or JSON that is not a GraphQL request.
  const good = op(REGISTER, { i: video() });
  for (let cut = 1; cut < good.length; cut += Math.max(1, Math.floor(good.length / 60))) add({ name: `JSON cut at ${cut}`, body: good.slice(0, cut), code: BAD, status: 400 });
  const notJson = [
    '{"query": "{ signals { name } }",}', "{'query': '{ signals { name } }'}", '{query: "{ signals { name } }"}', '{"query": "{ signals { name } }"} trailing',
    '{"query": "{ signals { name } }" /* comment */}', '{"query": "\\x41"}', '{"query": "a\u0001b"}', '{"variables": {"x": NaN}, "query": "{ signals { name } }"}',
    '{"variables": {"x": Infinity}, "query": "{ signals { name } }"}', '{"variables": {"x": -Infinity}, "query": "{ signals { name } }"}', '{"variables": {"x": 0x10}}',
    '{"variables": {"x": 01}}', '{"variables": {"x": undefined}}', '{"query": "\\ud800"', '\u00ef\u00bb\u00bf{}', '{"a":1}{"b":2}', '{"query"}', '[', '"unterminated', '{"x": .5}',
    '{"x": +1}', '{"x": 1.}', '{"x": tru}', '{"x": nul}', `{"query": "${'['.repeat(100)}`,
  ];
  for (const body of notJson) add({ name: `not JSON: ${body.slice(0, 40)}`, body, code: BAD, status: 400 });
  const notRequests: [string, string][] = [
    ['null', 'null'], ['a list', '[]'], ['a number', '1'], ['a string', '"{ signals { name } }"'], ['true', 'true'], ['an empty object', '{}'],
    ['query a number', '{"query": 1}'], ['query null', '{"query": null}'], ['query an object', '{"query": {}}'], ['query a list', '{"query": ["{ signals { name } }"]}'],
    ['query empty', '{"query": ""}'], ['variables a string', '{"query": "{ signals { name } }", "variables": "x"}'], ['variables a list', '{"query": "{ signals { name } }", "variables": []}'],
    ['variables a number', '{"query": "{ signals { name } }", "variables": 1}'], ['operationName a number', '{"query": "{ signals { name } }", "operationName": 1}'],
    ['extensions a string', '{"query": "{ signals { name } }", "extensions": "x"}'], ['a batch of operations', '[{"query": "{ signals { name } }"}, {"query": "{ signals { name } }"}]'],
    ['a list nested 100,000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`], ['an object nested 100,000 deep', deepText(100_000)],
    ['a persisted query of a bad version', '{"extensions": {"persistedQuery": {"version": 9, "sha256Hash": "00"}}}'],
  ];
  for (const [name, body] of notRequests) add({ name: `not a GraphQL request: ${name}`, body, code: BAD_REQUEST, status: 400 });
  // Apollo's protocol: the client then sends the query with its hash (HTTP 200).
  add({ name: 'an unknown persisted query', body: '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}', code: 'PERSISTED_QUERY_NOT_FOUND' });
  add({ name: 'a persisted query whose hash is not its query', body: op('{ signals { name } }', undefined, { extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }), code: BAD_REQUEST, status: 400 });
  add({ name: 'an empty body', body: '', code: BAD_REQUEST, status: 400 });
  add({ name: 'text/plain (CSRF)', body: op('{ signals { name } }'), contentType: 'text/plain', code: BAD_REQUEST, status: 400 });
  add({ name: 'no content type', body: op('{ signals { name } }'), contentType: null, code: BAD_REQUEST, status: 400 });
  add({ name: 'a form', body: 'query=%7B%20signals%20%7B%20name%20%7D%20%7D', contentType: 'application/x-www-form-urlencoded', code: BAD_REQUEST, status: 400 });
  add({ name: 'PUT', body: op('{ signals { name } }'), method: 'PUT', code: BAD_REQUEST, status: 405 });
  add({ name: 'a body over 64 MB', body: ' '.repeat(64 * 1024 * 1024 + 10), code: BAD, status: 413 });
  add({ name: 'a 20 KB x-request-id (over the header limit)', body: op('{ signals { name } }'), headers: { 'x-request-id': 'x'.repeat(20_000) }, code: 'none', rawStatus: 431 });

  // ---- Documents: syntax, validation, limits.
  const syntax = ['{', '}', 'query {', 'mutation', '{ posts(first: ) { edges { cursor } } }', '{ post(id: "unterminated) { id } }', 'query($: Int) { signals { name } }', '{ signals { name } } }', '{ ... }', 'fragment on Post { id }', '{ signals { name } ', '"""', '{ post(id: "\\uZZZZ") { id } }', '{ post(id: "\\u{110000}") { id } }', '{ signals @ { name } }', '\u0000', '{ signals { name } }\u0000'];
  for (const q of syntax) add({ name: `syntax: ${q.slice(0, 40)}`, body: op(q), code: PARSE, status: 400 });
  const random = rng(19);
  const alphabet = '{}()[]:$@!.=,|&"#\\ \n\tabcdefghijklmnopqrstuvwxyz0123456789_-\u0000\u00e9\ud83d\ude00';
  for (let i = 0; i < 60; i++) {
    const len = 1 + Math.floor(random() * 80);
    const q = Array.from({ length: len }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    add({ name: `random document ${i}`, body: op(q), code: PARSE, status: 400 });
  }
  const invalid = [
    '{ nope }', '{ signals { nope } }', '{ posts(bogus: 1) { edges { cursor } } }', '{ recommendations(signal: "click") { score } }', 'query($x: String) { posts(first: $x) { edges { cursor } } }',
    '{ posts(first: $undefined) { edges { cursor } } }', 'query($x: Int) { signals { name } }', '{ posts }', '{ signals }', '{ post(id: "a") { maturity { status } } }', 'subscription { signals { name } }',
    'fragment A on Post { id ...B } fragment B on Post { id ...A } { post(id: "a") { ...A } }', 'fragment A on Post { ...A } { post(id: "a") { ...A } }',
    '{ post(id: "a") { ...Missing } }', 'fragment U on User { id } { post(id: "a") { ...U } }', '{ signals { name @nope } }', '{ signals { name @include } }', '{ signals { name @include(if: "yes") } }',
    '{ posts(first: 1.5) { edges { cursor } } }', '{ posts(first: "10") { edges { cursor } } }', '{ posts(first: 2147483648) { edges { cursor } } }', '{ posts(first: 1e308) { edges { cursor } } }',
    '{ posts(first: null) { edges { cursor } } }', '{ posts(filter: {mediaType: AUDIO}) { edges { cursor } } }', '{ posts(filter: {mediaType: "VIDEO"}) { edges { cursor } } }',
    '{ posts(filter: {bogus: 1}) { edges { cursor } } }', '{ post(id: 1.5) { id } }', '{ post(id: true) { id } }', '{ post(id: null) { id } }', '{ post(id: ["a"]) { id } }',
    `{ post(id: "${fx.video}") { embedding(signal: "click", source: BOGUS) { source } } }`, 'mutation { registerPost(input: {id: "x"}) { id } }', 'mutation { registerPost(input: {id: "x", mediaType: VIDEO, features: {visual: [1, NaN]}}) { id } }',
    'mutation { registerPost(input: {id: "x", mediaType: VIDEO, features: {visual: [true]}}) { id } }', 'mutation { registerPost(input: {id: "x", mediaType: VIDEO, features: {visual: ["1"]}}) { id } }',
    'mutation { registerPost(input: {id: "x", mediaType: VIDEO, features: {visual: "f16:!!"}}) { id } }', 'mutation { recordInteractions(inputs: [{userId: "u", postId: "p", signal: "click", label: 1.5}]) { recorded } }',
    'mutation { recordInteractions(inputs: [{userId: "u", postId: "p", signal: "click", label: 4294967296}]) { recorded } }', 'mutation { upsertUsers(inputs: [{id: "u", attributes: [1]}]) { id } }',
    'mutation { upsertUsers(inputs: [{id: "u", attributes: "x"}]) { id } }', 'query A { signals { name } } query A { signals { name } }', '{ __schema { nope } }', '{ __type { name } }',
  ];
  for (const q of invalid) add({ name: `invalid: ${q.slice(0, 60)}`, body: op(q), code: INVALID, status: 400 });
  add({ name: 'two operations, no operationName', body: op('query A { signals { name } } query B { signals { name } }'), code: 'OPERATION_RESOLUTION_FAILURE', status: 400 });
  add({ name: 'an operationName that is not in the document', body: op('query A { signals { name } }', undefined, { operationName: 'B' }), code: 'OPERATION_RESOLUTION_FAILURE', status: 400 });
  add({ name: 'an operationName of 10 MB', body: op('query A { signals { name } }', undefined, { operationName: huge }), code: 'OPERATION_RESOLUTION_FAILURE', status: 400 });
  add({ name: 'a mutation over GET', body: '', method: 'GET', search: `?query=${encodeURIComponent('mutation { upsertUsers(inputs: [{id: "get"}]) { id } }')}`, code: BAD_REQUEST, status: 405 });
  add({ name: 'GET with variables that are not JSON', body: '', method: 'GET', search: `?query=${encodeURIComponent('query($x: Int) { posts(first: $x) { edges { cursor } } }')}&variables=%7Bx`, code: BAD_REQUEST, status: 400 });
  add({ name: 'GET with a NUL in a variable', body: '', method: 'GET', search: `?query=${encodeURIComponent('query($id: ID!) { post(id: $id) { id } }')}&variables=${encodeURIComponent(JSON.stringify({ id: 'a\u0000' }))}`, code: BAD, status: 400 });
  const deepSelection = (levels: number) => `{ __schema { types { fields { type { ${'ofType { '.repeat(levels)}name ${'} '.repeat(levels)}} } } } }`;
  const limits: [string, string][] = [
    ['depth 16 through introspection', deepSelection(12)], ['depth 200 through introspection', deepSelection(200)], ['depth 3,000 through introspection (tokens first)', deepSelection(3000)],
    ['31 aliases', `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: signals { name }`).join(' ')} }`], ['2,000 aliases', `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: signals { name }`).join(' ')} }`],
    ['51 directives', `{ signals { ${Array.from({ length: 51 }, () => 'name @include(if: true)').join(' ')} } }`], ['10,001 tokens', `{ signals { ${'name '.repeat(10_001)}} }`],
    ['200,000 tokens', `{ signals { ${'name '.repeat(200_000)}} }`], ['cost: 30 x posts(first: 100)', `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: posts(first: 100) { edges { node { id embedding(signal: "click") { vector } } } }`).join(' ')} }`],
    ['cost: recommendations(first: 500) x 25 fields', `{ ${Array.from({ length: 25 }, (_, i) => `r${i}: recommendations(userId: "u", signal: "click", first: 400) { post { id } score }`).join(' ')} }`],
    ['fragments: 31 aliases through a fragment', `fragment F on Query { ${Array.from({ length: 31 }, (_, i) => `a${i}: signals { name }`).join(' ')} } { ...F }`],
  ];
  for (const [name, q] of limits) add({ name: `limit: ${name}`, body: op(q), code: TOO_COMPLEX, status: 400 });
  const costly = ['a', 'b', 'c', 'd', 'e', 'f'].map((a) => `${a}: registerPosts(inputs: $i) { id servingSources { signal } }`).join(' ');
  add({ name: 'limit: cost through a variable (registerPosts of 1,000 x 6)', body: op(`mutation($i: [RegisterPostInput!]!) { ${costly} }`, { i: Array.from({ length: 1000 }, () => ({ id: fresh('c'), mediaType: 'IMAGE' })) }), code: TOO_COMPLEX, status: 400 });
  add({ name: 'a 10 MB string literal as a post id', body: op(`{ post(id: "${huge}") { id } }`), code: 'none' });
  add({ name: 'a 10 MB comment before an invalid document', body: op(`# ${huge}\n{ nope }`), code: INVALID, status: 400 });
  add({ name: 'a 10 MB string literal as a registered id', body: op(`mutation { registerPost(input: {id: "${huge}", mediaType: VIDEO}) { id } }`), code: BAD });

  // ---- registerPost: one bad field at a time (variables), then the same inside registerPosts batches.
  type Mutation = [string, (input: Record<string, any>) => void, string?];
  const set = (path: string[], value: unknown) => (input: Record<string, any>) => {
    let o = input;
    for (const k of path.slice(0, -1)) o = o[k] ??= {};
    o[path.at(-1)!] = value;
  };
  const postMutations: Mutation[] = [
    ...badIds.map(([name, v]): Mutation => [`id ${name}`, set(['id'], v)]),
    ['id missing', (i) => delete i.id], ['mediaType AUDIO', set(['mediaType'], 'AUDIO')], ['mediaType lower case', set(['mediaType'], 'video')], ['mediaType empty', set(['mediaType'], '')],
    ['mediaType a number', set(['mediaType'], 1)], ['mediaType null', set(['mediaType'], null)], ['mediaType a list', set(['mediaType'], ['VIDEO'])], ['mediaType missing', (i) => delete i.mediaType],
    ['tags with a number', set(['tags'], [1])], ['tags with null', set(['tags'], [null])], ['an empty tag', set(['tags'], [''])], ['a blank tag', set(['tags'], ['   '])], ['a tag with NUL', set(['tags'], ['ok', 'a\u0000b'])],
    ['a tag of 257 characters', set(['tags'], ['x'.repeat(257)])], ['1,025 tags', set(['tags'], Array.from({ length: 1025 }, (_, k) => `t${k}`))], ['a tag object', set(['tags'], [{}])],
    ['tags nested', set(['tags'], [['a']])], ['tags nested 10,000 deep', set(['tags'], deepList(10_000, 'a'))], ['a tag with a lone surrogate', set(['tags'], ['\ud800'])], ['tags an object', set(['tags'], { a: 1 })],
    ['text of 10,001 characters', set(['text'], 'x'.repeat(10_001))], ['text a number', set(['text'], 5)], ['text an object', set(['text'], {})], ['text a boolean', set(['text'], true)],
    ['text with NUL', set(['text'], 'before\u0000after')], ['text with a lone surrogate', set(['text'], 'a\udc00')],
    ['createdAt not a date', set(['createdAt'], 'yesterday')], ['createdAt month 13', set(['createdAt'], '2020-13-01T00:00:00Z')], ['createdAt year 275760', set(['createdAt'], '+275760-09-13T00:00:00Z')],
    ['createdAt a date without time', set(['createdAt'], '2020-01-01')], ['createdAt a number', set(['createdAt'], 0)], ['createdAt 1e20', set(['createdAt'], 1e20)], ['createdAt empty', set(['createdAt'], '')],
    ['createdAt hour 25', set(['createdAt'], '2020-01-01T25:00:00Z')], ['createdAt an object', set(['createdAt'], {})], ['createdAt Infinity (1e400)', set(['createdAt'], RAW('1e400'))],
    ['features a string', set(['features'], 'x')], ['features a list', set(['features'], [])], ['features a number', set(['features'], 1)], ['an unknown modality', set(['features', 'depth'], [1])],
    ['visual of 7 values', set(['features', 'visual'], features(7))], ['visual of 9 values', set(['features', 'visual'], features(9))], ['visual empty', set(['features', 'visual'], [])],
    ['visual with NaN (as JSON sends it: null)', set(['features', 'visual'], [...features(7), Number.NaN])], ['visual with Infinity (1e400)', set(['features', 'visual'], [...features(7), RAW('1e400')])],
    ['visual with -Infinity (-1e400)', set(['features', 'visual'], [RAW('-1e400'), ...features(7)])], ['visual over float16 (65505)', set(['features', 'visual'], [...features(7), 65505])],
    ['visual of 1e39', set(['features', 'visual'], [...features(7), 1e39])], ['visual of -1e300', set(['features', 'visual'], [-1e300, ...features(7)])], ['visual with a string', set(['features', 'visual'], [...features(7), '1'])],
    ['visual with a boolean', set(['features', 'visual'], [...features(7), true])], ['visual nested', set(['features', 'visual'], [features(8)])], ['visual with an object', set(['features', 'visual'], [{}])],
    ['visual an object', set(['features', 'visual'], {})], ['visual of 1,000,000 values', set(['features', 'visual'], new Array(1_000_000).fill(0.5))], ['visual nested 10,000 deep', set(['features', 'visual'], deepList(10_000, 1))],
    ['visual "f16:" with nothing', set(['features', 'visual'], 'f16:')], ['visual f16 unpadded', set(['features', 'visual'], 'f16:AAA')], ['visual f16 not base64', set(['features', 'visual'], 'f16:!!!!')],
    ['visual "F16:"', set(['features', 'visual'], `F16:${f32(features(8)).slice(4)}`)], ['visual "f64:"', set(['features', 'visual'], `f64:${f32(features(8)).slice(4)}`)], ['visual a plain string', set(['features', 'visual'], 'hello')],
    ['visual f32 with NaN', set(['features', 'visual'], f32([...features(7), Number.NaN]))], ['visual f32 with Infinity', set(['features', 'visual'], f32([Number.POSITIVE_INFINITY, ...features(7)]))],
    ['visual f32 over float16', set(['features', 'visual'], f32([...features(7), 70000]))], ['visual f32 of 7 values', set(['features', 'visual'], f32(features(7)))], ['visual f32 of 9 values', set(['features', 'visual'], f32(features(9)))],
    ['visual f16 with Infinity bits', set(['features', 'visual'], f16bits([0x7c00, 0, 0, 0, 0, 0, 0, 0]))], ['visual f16 with NaN bits', set(['features', 'visual'], f16bits([0, 0, 0, 0, 0, 0, 0, 0x7e00]))],
    ['visual f16 of 7 halves', set(['features', 'visual'], f16bits([0, 0, 0, 0, 0, 0, 0]))], ['visual f16 odd bytes', set(['features', 'visual'], 'f16:AAAA')],
    ['audio of 5 values', set(['features', 'audio'], features(5))], ['text of 100 values (configured 3)', set(['features', 'text'], features(100))], ['aux of 3 values (configured 2)', set(['features', 'aux'], features(3))],
    ['an unknown field', set(['bogus'], 1)], ['an unknown feature field', set(['features', 'bogus'], [1])],
  ];
  for (const [name, mutate] of postMutations) {
    const input = video();
    mutate(input);
    add({ name: `registerPost: ${name}`, body: op(REGISTER, { i: input }), code: BAD });
  }
  add({ name: 'registerPost: audio features on an IMAGE post', body: op(REGISTER, { i: { ...image(), features: { visual: features(6), audio: features(4) } } }), code: BAD });
  add({ name: 'registerPost: a 10 MB id', body: op(REGISTER, { i: { ...video(), id: huge } }), code: BAD });
  add({ name: 'registerPost: a 10 MB text', body: op(REGISTER, { i: { ...video(), text: huge } }), code: BAD });
  add({ name: 'registerPost: a 10 MB tag', body: op(REGISTER, { i: { ...video(), tags: [huge] } }), code: BAD });
  add({ name: 'registerPost: a 10 MB mediaType', body: op(REGISTER, { i: { ...video(), mediaType: huge } }), code: BAD });
  add({ name: 'registerPost: a 10 MB packed vector', body: op(REGISTER, { i: { ...video(), features: { visual: `f16:${'A'.repeat(MB10)}` } } }), code: BAD });
  add({ name: 'registerPost: a 10 MB createdAt', body: op(REGISTER, { i: { ...video(), createdAt: huge } }), code: BAD });
  add({ name: 'registerPost: input null', body: op(REGISTER, { i: null }), code: BAD });
  add({ name: 'registerPost: input a string', body: op(REGISTER, { i: 'x' }), code: BAD });
  add({ name: 'registerPost: input a list', body: op(REGISTER, { i: [video()] }), code: BAD });
  add({ name: 'registerPost: input empty', body: op(REGISTER, { i: {} }), code: BAD });
  add({ name: 'registerPost: no variables', body: op(REGISTER), code: BAD });
  add({ name: 'registerPost: the stored video id with another payload', body: op(REGISTER, { i: { id: fx.video, mediaType: 'VIDEO', tags: ['other'] } }), code: 'CONFLICT' });
  add({ name: 'registerPost: the stored image id as a video', body: op(REGISTER, { i: { id: fx.image, mediaType: 'VIDEO' } }), code: 'CONFLICT' });
  add({ name: 'registerPost: inline Infinity literal (1e999)', body: op(`mutation { registerPost(input: {id: "${fresh('lit')}", mediaType: VIDEO, features: {visual: [1e999, 0, 0, 0, 0, 0, 0, 0]}}) { id } }`), code: BAD });
  add({ name: 'registerPost: inline NUL in an id literal', body: op(`mutation { registerPost(input: {id: "a\\u0000b", mediaType: VIDEO}) { id } }`), code: BAD });
  add({ name: 'registerPost: inline NUL in a text block string', body: op(`mutation { registerPost(input: {id: "${fresh('lit')}", mediaType: VIDEO, text: "a\\u{0}b"}) { id } }`), code: BAD });

  // Batches: one bad element among valid ones (first, middle, last): the whole batch is refused, nothing written.
  const batchMutations = postMutations.filter(([name]) => !/1,000,000|10,000 deep/.test(name));
  for (const [name, mutate] of batchMutations) {
    for (const at of [0, 2, 4]) {
      const inputs = [video(), image(), video(), image(), video()];
      mutate(inputs[at]);
      add({ name: `registerPosts: ${name} at [${at}]`, body: op(REGISTER_MANY, { i: inputs }), code: BAD });
    }
  }
  const twice = video();
  add({ name: 'registerPosts: one id twice with different payloads', body: op(REGISTER_MANY, { i: [video(), twice, { ...twice, tags: ['other'] }] }), code: 'CONFLICT' });
  add({ name: 'registerPosts: new posts and the stored video id with another payload', body: op(REGISTER_MANY, { i: [video(), image(), { id: fx.video, mediaType: 'VIDEO', text: 'changed' }] }), code: 'CONFLICT' });
  add({ name: 'registerPosts: 1,001 posts (over MEMER_MAX_BATCH)', body: op('mutation($i: [RegisterPostInput!]!) { registerPosts(inputs: $i) { id } }', { i: Array.from({ length: 1001 }, () => ({ id: fresh('o'), mediaType: 'IMAGE' })) }), code: BAD });
  add({ name: 'registerPosts: inputs null', body: op(REGISTER_MANY, { i: null }), code: BAD });
  add({ name: 'registerPosts: inputs a list of lists', body: op(REGISTER_MANY, { i: [[video()]] }), code: BAD });
  add({ name: 'registerPosts: inputs with null', body: op(REGISTER_MANY, { i: [video(), null] }), code: BAD });

  // ---- recordInteractions: one bad field, alone and inside batches of valid ones.
  let u = 0;
  const interaction = () => ({ userId: `bad-user-${u++}`, postId: fx.video, signal: 'click', label: 1 });
  const interactionMutations: Mutation[] = [
    ...badIds.map(([name, v]): Mutation => [`userId ${name}`, set(['userId'], v)]),
    ['userId missing', (i) => delete i.userId], ['postId unknown', set(['postId'], 'no-such-post')], ['postId empty', set(['postId'], '')], ['postId with NUL', set(['postId'], 'a\u0000')],
    ['postId with a newline', set(['postId'], `${fx.video}\n`)], ['postId a float', set(['postId'], 1.5)], ['postId null', set(['postId'], null)], ['postId with a lone surrogate', set(['postId'], '\ud800')],
    ['postId of 129 characters', set(['postId'], 'p'.repeat(129))], ['signal unknown', set(['signal'], 'nope')], ['signal empty', set(['signal'], '')], ['signal upper case', set(['signal'], 'CLICK')],
    ['signal with a space', set(['signal'], ' click')], ['signal with NUL', set(['signal'], 'click\u0000')], ['signal a number', set(['signal'], 1)], ['signal null', set(['signal'], null)],
    ['signal an object', set(['signal'], {})], ['signal with a lone surrogate', set(['signal'], 'click\udfff')], ['label 2', set(['label'], 2)], ['label -1', set(['label'], -1)], ['label 0.5', set(['label'], 0.5)],
    ['label 2^31', set(['label'], 2 ** 31)], ['label 1e20', set(['label'], 1e20)], ['label Infinity (1e400)', set(['label'], RAW('1e400'))], ['label "NaN"', set(['label'], 'NaN')],
    ['label a string', set(['label'], '1')], ['label a boolean', set(['label'], true)], ['label a list', set(['label'], [1])], ['timestamp not a date', set(['timestamp'], 'now')],
    ['timestamp month 13', set(['timestamp'], '2021-13-01T00:00:00Z')], ['timestamp a number', set(['timestamp'], 1_700_000_000)], ['timestamp year 275760', set(['timestamp'], '+275760-09-13T00:00:00Z')],
    ['timestamp an object', set(['timestamp'], {})], ['an unknown field', set(['weight'], 2)],
  ];
  for (const [name, mutate] of interactionMutations) {
    const alone = interaction();
    mutate(alone);
    add({ name: `recordInteractions: ${name}`, body: op(RECORD, { i: [alone] }), code: BAD });
    for (const at of [0, 3, 6]) {
      const inputs = Array.from({ length: 7 }, interaction);
      mutate(inputs[at]);
      add({ name: `recordInteractions: ${name} at [${at}] of 7`, body: op(RECORD, { i: inputs }), code: BAD });
    }
  }
  add({ name: 'recordInteractions: video_play on an IMAGE post', body: op(RECORD, { i: [interaction(), { ...interaction(), postId: fx.image, signal: 'video_play' }] }), code: BAD });
  add({ name: 'recordInteractions: skip on an IMAGE post, last of a batch', body: op(RECORD, { i: [interaction(), interaction(), { ...interaction(), postId: fx.image, signal: 'skip' }] }), code: BAD });
  add({ name: 'recordInteractions: 1,001 interactions (over MEMER_MAX_BATCH)', body: op(RECORD, { i: Array.from({ length: 1001 }, interaction) }), code: BAD });
  add({ name: 'recordInteractions: 1,001 interactions, all invalid', body: op(RECORD, { i: Array.from({ length: 1001 }, () => ({ ...interaction(), signal: 'nope' })) }), code: BAD });
  add({ name: 'recordInteractions: a 10 MB userId', body: op(RECORD, { i: [{ ...interaction(), userId: huge }] }), code: BAD });
  add({ name: 'recordInteractions: a 10 MB postId', body: op(RECORD, { i: [{ ...interaction(), postId: huge }] }), code: BAD });
  add({ name: 'recordInteractions: a 10 MB signal', body: op(RECORD, { i: [{ ...interaction(), signal: huge }] }), code: BAD });
  add({ name: 'recordInteractions: inputs a string', body: op(RECORD, { i: 'x' }), code: BAD });
  add({ name: 'recordInteractions: inputs nested 10,000 deep', body: op(RECORD, { i: deepList(10_000, interaction()) }), code: BAD });
  add({ name: 'recordInteractions: inputs with null', body: op(RECORD, { i: [interaction(), null] }), code: BAD });

  // ---- upsertUsers.
  const userMutations: Mutation[] = [
    ...badIds.map(([name, v]): Mutation => [`id ${name}`, set(['id'], v)]),
    ['attributes a list', set(['attributes'], [1])], ['attributes a string', set(['attributes'], 'x')], ['attributes a number', set(['attributes'], 1)], ['attributes a boolean', set(['attributes'], true)],
    ['attributes over 16 KB', set(['attributes'], { bio: 'x'.repeat(17_000) })], ['attributes nested 100,000 deep', set(['attributes'], RAW(deepText(100_000)))], ['attributes nested 1,000 deep', set(['attributes'], RAW(deepText(1000)))], ['attributes nested 33 deep', set(['attributes'], RAW(deepText(33)))],
    ['attributes with a NUL key', set(['attributes'], { 'a\u0000': 1 })], ['attributes with a NUL value', set(['attributes'], { a: 'x\u0000y' })], ['attributes with a lone surrogate', set(['attributes'], { a: '\ud800' })],
    ['an unknown field', set(['email'], 'a@b')],
  ];
  for (const [name, mutate] of userMutations) {
    const alone = { id: `bad-upsert-${u++}`, attributes: { country: 'fr' } };
    mutate(alone);
    add({ name: `upsertUsers: ${name}`, body: op(UPSERT, { i: [alone] }), code: BAD });
    const batch = [{ id: fx.user, attributes: { country: 'changed' } }, { id: `bad-upsert-${u++}` }, { id: `bad-upsert-${u++}` }];
    const bad = { id: `bad-upsert-${u++}` };
    mutate(bad);
    add({ name: `upsertUsers: ${name} last of a batch that also changes a stored user`, body: op(UPSERT, { i: [...batch, bad] }), code: BAD });
  }
  add({ name: 'upsertUsers: 1,001 users (over MEMER_MAX_BATCH)', body: op(UPSERT, { i: Array.from({ length: 1001 }, () => ({ id: `bad-upsert-${u++}` })) }), code: BAD });
  add({ name: 'upsertUsers: a 10 MB attribute', body: op(UPSERT, { i: [{ id: `bad-upsert-${u++}`, attributes: { bio: huge } }] }), code: BAD });
  add({ name: 'upsertUsers: inline attributes nested 100 deep', body: op(`mutation { upsertUsers(inputs: [{id: "bad-inline", attributes: ${'{a: '.repeat(100)}1${'}'.repeat(100)}}]) { id } }`), code: BAD });
  add({ name: 'upsertUsers: inline attributes nested 2,000 deep (past what the parser can nest)', body: op(`mutation { upsertUsers(inputs: [{id: "bad-inline", attributes: ${'{a: '.repeat(2000)}1${'}'.repeat(2000)}}]) { id } }`), code: TOO_COMPLEX, status: 400 });

  // ---- Reads: arguments out of range, unknown signals, bad cursors; ids that cannot exist answer null.
  const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
  const postsFirst = 'query($x: Int) { posts(first: $x) { edges { cursor } } }';
  for (const [name, x] of [['null', null], ['NaN (null)', Number.NaN], ['Infinity (1e400)', RAW('1e400')], ['2^31', 2 ** 31], ['1.5', 1.5], ['a string', '10'], ['a boolean', true], ['a list', [10]]] as [string, unknown][]) {
    add({ name: `posts: first ${name}`, body: op(postsFirst, { x }), code: BAD, status: 400 });
  }
  for (const x of [0, -1, 101]) add({ name: `posts: first ${x}`, body: op(postsFirst, { x }), code: BAD });
  add({ name: 'posts: first 0 (literal)', body: op('{ posts(first: 0) { edges { cursor } } }'), code: BAD });
  add({ name: 'users: first 101 (literal)', body: op('{ users(first: 101) { edges { cursor } } }'), code: BAD });
  const postsAfter = 'query($a: String) { posts(first: 2, after: $a) { edges { cursor } } }';
  const usersAfter = 'query($a: String) { users(first: 2, after: $a) { edges { cursor } } }';
  const badCursors: [string, string][] = [
    ['garbage', 'not a cursor'], ['10 MB', huge], ['of a user', cursor(['u1'])], ['a huge time', cursor([1e300, 'x'])], ['an object', cursor({})], ['NaN', Buffer.from('[NaN,"x"]').toString('base64url')],
    ['with NUL', cursor([0, 'a\u0000b'])], ['nested', cursor([[1], 'x'])], ['a lone surrogate', cursor([0, '\ud800'])],
  ];
  for (const [name, a] of badCursors) add({ name: `posts: a cursor ${name}`, body: op(postsAfter, { a }), code: BAD });
  for (const [name, a] of [['garbage', '%%%'], ['of a post', cursor([0, 'x'])], ['with NUL', cursor(['a\u0000'])], ['10 MB', huge], ['a number', cursor([1])]] as [string, string][]) {
    add({ name: `users: a cursor ${name}`, body: op(usersAfter, { a }), code: BAD });
  }
  const postsFilter = 'query($f: PostFilter) { posts(first: 5, filter: $f) { edges { cursor } } }';
  for (const [name, f] of [
    ['tag with NUL', { tag: 'a\u0000' }], ['signal unknown', { signal: 'nope' }], ['signal with NUL', { signal: '\u0000' }], ['stage without signal', { stage: 'EARLY' }], ['stage bogus', { signal: 'click', stage: 'SOON' }],
    ['mediaType AUDIO', { mediaType: 'AUDIO' }], ['createdAfter not a date', { createdAfter: 'x' }], ['createdBefore a number', { createdBefore: 5 }], ['an unknown field', { bogus: 1 }], ['signal 10 MB', { signal: huge }],
    ['tag a lone surrogate', { tag: '\udc00' }], ['a string', 'x'],
  ] as [string, unknown][]) {
    add({ name: `posts: filter ${name}`, body: op(postsFilter, { f }), code: BAD });
  }
  add({ name: 'posts: an empty cursor (the first page)', body: op(postsAfter, { a: '' }), code: 'none' });
  add({ name: 'posts: filter tag of 10 MB (nothing has it)', body: op(postsFilter, { f: { tag: huge } }), code: 'none' });
  const byId = (field: 'post' | 'user') => `query($id: ID!) { ${field}(id: $id) { id } }`;
  for (const field of ['post', 'user'] as const) {
    for (const [name, id] of [['NUL', '\u0000'], ['inner NUL', 'a\u0000b'], ['a lone surrogate', '\ud800x'], ['null', null], ['an object', {}], ['a float', 1.5]] as [string, unknown][]) {
      add({ name: `${field}: id ${name}`, body: op(byId(field), { id }), code: BAD });
    }
    for (const [name, id] of [['with a newline', 'a\nb'], ['with a space', 'a b'], ['of 129 characters', 'x'.repeat(129)], ['of 10 MB', huge], ['with escape sequences', '\u001b[2J'], ['non-ASCII', 'naïve']] as [string, string][]) {
      add({ name: `${field}: id ${name} (none can exist)`, body: op(byId(field), { id }), code: 'none' });
    }
  }
  const recs = 'query($u: ID!, $s: String!, $n: Int, $m: MediaType, $st: MaturityStatus) { recommendations(userId: $u, signal: $s, first: $n, mediaType: $m, stage: $st) { post { id } score } }';
  for (const [name, vars] of [
    ['signal unknown', { u: 'u1', s: 'nope' }], ['signal with NUL', { u: 'u1', s: 'click\u0000' }], ['signal 10 MB', { u: 'u1', s: huge }], ['userId with NUL', { u: '\u0000', s: 'click' }],
    ['userId a lone surrogate', { u: '\ud800', s: 'click' }], ['first 0', { u: 'u1', s: 'click', n: 0 }], ['first 501', { u: 'u1', s: 'click', n: 501 }], ['first -1', { u: 'u1', s: 'click', n: -1 }],
    ['first null', { u: 'u1', s: 'click', n: null }], ['first 2^31', { u: 'u1', s: 'click', n: 2 ** 31 }], ['first Infinity', { u: 'u1', s: 'click', n: RAW('1e400') }], ['video_play on IMAGE', { u: 'u1', s: 'video_play', m: 'IMAGE' }],
    ['mediaType bogus', { u: 'u1', s: 'click', m: 'GIF' }], ['stage bogus', { u: 'u1', s: 'click', st: 'SOON' }], ['userId null', { u: null, s: 'click' }], ['signal null', { u: 'u1', s: null }],
  ] as [string, Record<string, unknown>][]) {
    add({ name: `recommendations: ${name}`, body: op(recs, vars), code: BAD });
  }
  add({ name: 'recommendations: a 10 MB userId (no such user)', body: op(recs, { u: huge, s: 'click' }), code: 'none' });
  const maturity = `query($s: String!) { post(id: "${fx.video}") { maturity(signal: $s) { status } } }`;
  for (const [name, s] of [['unknown', 'nope'], ['NUL', '\u0000'], ['10 MB', huge], ['empty', ''], ['upper case', 'CLICK']] as [string, string][]) add({ name: `maturity: signal ${name}`, body: op(maturity, { s }), code: BAD });
  const embedding = `query($s: String!, $src: EmbeddingSource) { post(id: "${fx.video}") { embedding(signal: $s, source: $src) { source } } }`;
  add({ name: 'embedding: source bogus', body: op(embedding, { s: 'click', src: 'BOGUS' }), code: BAD });
  add({ name: 'embedding: signal unknown', body: op(embedding, { s: 'nope' }), code: BAD });
  add({ name: 'baselines: signal unknown', body: op(`{ post(id: "${fx.image}") { baselines(signal: "nope") { source } } }`), code: BAD });
  add({ name: 'user embedding: signal unknown', body: op(`{ user(id: "${fx.user}") { embedding(signal: "nope") { dim } } }`), code: BAD });
  add({ name: 'maturityCurve: signal unknown', body: op('{ maturityCurve(signal: "nope", mediaType: VIDEO) { threshold } }'), code: BAD });
  add({ name: 'maturityCurve: signal with NUL', body: op('query($s: String!) { maturityCurve(signal: $s, mediaType: VIDEO) { threshold } }', { s: '\u0000' }), code: BAD });
  add({ name: 'models: signal with NUL', body: op('query($s: String) { models(signal: $s) { version } }', { s: 'click\u0000' }), code: BAD });

  // ---- Access.
  const mutations = [
    op(REGISTER, { i: video() }), op(REGISTER_MANY, { i: [video()] }), op(RECORD, { i: [interaction()] }), op(UPSERT, { i: [{ id: `bad-upsert-${u++}` }] }), op('mutation { activateModel(version: "click-v") { signal } }'),
  ];
  for (const [i, body] of mutations.entries()) {
    add({ name: `access: mutation ${i} without a key`, body, auth: 'none', code: 'UNAUTHENTICATED' });
    for (const header of ['Bearer nope', 'Bearer mk_000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Bearer ${'k'.repeat(8000)}`, 'mk_only_the_key']) {
      add({ name: `access: mutation ${i} with the key ${header.slice(0, 30)}`, body, auth: { header }, code: 'UNAUTHENTICATED' });
    }
    add({ name: `access: mutation ${i} with a read key`, body, auth: 'read', code: 'FORBIDDEN' });
  }
  add({ name: 'access: activateModel with a write key', body: op('mutation { activateModel(version: "click-v") { signal } }'), code: 'FORBIDDEN' });
  add({ name: 'access: activateModel of a version with NUL, with a write key', body: op('mutation($v: String!) { activateModel(version: $v) { signal } }', { v: '\u0000' }), code: BAD });
  return cases;
}
