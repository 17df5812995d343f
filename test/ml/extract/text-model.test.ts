import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { halfToNumber, toHalf } from '../../../src/lib/float16.js';
import { Rng } from '../../../src/lib/random.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import {
  TextEmbedder,
  TextModelError,
  charNgrams,
  docTokens,
  embedTexts,
  encodeDoc,
  fnv1a,
  readTextModel,
  subwordRows,
  textModelBytes,
  textModelToOnnx,
  tokenize,
  wordVector,
  type TextModel,
} from '../../../src/ml/extract/text-model.js';
import { DEFAULT_TEXT_TRAIN_OPTIONS, hiddenOf, pairLoss, pairStep, trainTextModel, updateRows } from '../../../src/ml/extract/text-train.js';

const CATS = ['cats', 'kitten', 'meow', 'purr', 'whiskers', 'litter', 'tabby', 'feline', 'paws', 'catnip'];
const BALL = ['football', 'goal', 'striker', 'penalty', 'stadium', 'referee', 'league', 'keeper', 'match', 'offside'];

/** Two topics with disjoint vocabularies: each post is 8 words of one topic. */
function plantedCorpus(posts: number, seed: number): string[] {
  const r = new Rng(seed);
  return Array.from({ length: posts }, (_, i) => {
    const topic = i % 2 ? CATS : BALL;
    return Array.from({ length: 8 }, () => topic[r.int(topic.length)]).join(' ');
  });
}

const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0, x = 0, y = 0;
  for (let k = 0; k < a.length; k++) {
    d += a[k] * b[k];
    x += a[k] ** 2;
    y += b[k] ** 2;
  }
  return x && y ? d / Math.sqrt(x * y) : 0;
};

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe('text model: tokens and subwords', () => {
  test('tokens: NFKC, lower case, letters/digits/marks, inner apostrophes, tags after the text', () => {
    assert.deepEqual(tokenize("MEMER Cats, don't STOP!! #Café ｆｕｌｌ 2026"), ['memer', 'cats', "don't", 'stop', 'café', 'full', '2026']);
    assert.deepEqual(tokenize(''), []);
    assert.equal(tokenize('x'.repeat(500))[0].length, 64);
    assert.deepEqual(docTokens({ text: 'Funny cat', tags: ['pets', 'Cute-Animals'] }), { tokens: ['funny', 'cat', 'pets', 'cute', 'animals'], textCount: 2 });
    assert.deepEqual(docTokens({ text: null, tags: null }), { tokens: [], textCount: 0 });
  });

  test('FNV-1a 32 matches its published vectors; n-grams of "<word>" for n = 3..6 as fastText', () => {
    assert.equal(fnv1a(''), 0x811c9dc5);
    assert.equal(fnv1a('a'), 0xe40c292c);
    assert.equal(fnv1a('foobar'), 0xbf9cf968);
    assert.equal(fnv1a('é'), fnv1a('\u00e9')); // UTF-8 bytes c3 a9
    assert.notEqual(fnv1a('é'), fnv1a('e\u0301'));
    assert.deepEqual(charNgrams('cat', 3, 6), ['<ca', '<cat', '<cat>', 'cat', 'cat>', 'at>']);
    const vocab = { dim: 4, buckets: 100, minn: 3, maxn: 6, words: ['cat', 'dog'], wordIndex: new Map([['cat', 0], ['dog', 1]]) };
    const rows = subwordRows(vocab, 'cat');
    assert.equal(rows[0], 0); // its own row first
    assert.equal(rows.length, 7);
    for (const r of rows.subarray(1)) assert.ok(r >= 2 && r < 102);
    assert.equal(subwordRows(vocab, 'cats').length, 10); // unseen: n-grams only
  });
});

describe('text model: the SGNS gradient', () => {
  test('pair loss gradient equals central finite differences (h = 1e-6, |err| < 1e-7 + 1e-6 |g|)', () => {
    const dim = 6;
    const r = new Rng(2);
    const input = Float64Array.from({ length: 10 * dim }, () => r.normal(0, 0.5));
    const output = Float64Array.from({ length: 5 * dim }, () => r.normal(0, 0.5));
    const rows = [1, 4, 4, 7]; // a repeated row (a hash collision inside one word)
    const target = 2;
    const negatives = [0, 3, 3]; // a repeated negative
    const h = new Float64Array(dim);
    hiddenOf(input, dim, rows, h);
    const gradH = new Float64Array(dim);
    const gradOut = new Map<number, Float64Array>();
    const loss = pairStep(output, dim, h, target, negatives, 0, gradH, gradOut);
    assert.ok(Math.abs(loss - pairLoss(input, output, dim, rows, target, negatives)) < 1e-12);
    const eps = 1e-6;
    const fd = (arr: Float64Array, i: number) => {
      const keep = arr[i];
      arr[i] = keep + eps;
      const up = pairLoss(input, output, dim, rows, target, negatives);
      arr[i] = keep - eps;
      const down = pairLoss(input, output, dim, rows, target, negatives);
      arr[i] = keep;
      return (up - down) / (2 * eps);
    };
    const fd2 = (i: number) => {
      const keep = output[i];
      output[i] = keep + eps;
      const up = pairLoss(input, output, dim, rows, target, [0, 3, 4]);
      output[i] = keep - eps;
      const down = pairLoss(input, output, dim, rows, target, [0, 3, 4]);
      output[i] = keep;
      return (up - down) / (2 * eps);
    };
    const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) < 1e-7 + 1e-6 * Math.abs(want), `${what}: ${got} vs ${want}`);
    // dL/dz_g = multiplicity(g) / |G| * dL/dh; rows not used have no gradient.
    for (let row = 0; row < 10; row++) {
      const mult = rows.filter((x) => x === row).length;
      for (let k = 0; k < dim; k++) close((mult / rows.length) * gradH[k], fd(input, row * dim + k), `dL/dz[${row}][${k}]`);
    }
    for (let row = 0; row < 5; row++) {
      for (let k = 0; k < dim; k++) close(gradOut.get(row)?.[k] ?? 0, fd(output, row * dim + k), `dL/du[${row}][${k}]`);
    }

    // The training step is that gradient (checked with distinct negatives, the case where it is exact): output rows
    // move by -lr dL/du, and each listed subword row by -lr dL/dh (fastText's rule), so a row listed twice moves twice.
    const distinct = [0, 3, 4];
    const gH = new Float64Array(dim);
    const gOut = new Map<number, Float64Array>();
    pairStep(output, dim, h, target, distinct, 0, gH, gOut);
    for (const row of [target, ...distinct]) {
      for (let k = 0; k < dim; k++) close(gOut.get(row)![k], fd2(row * dim + k), `dL/du[${row}][${k}], distinct negatives`);
    }
    const lr = 0.01;
    const out2 = Float64Array.from(output);
    const gH2 = new Float64Array(dim);
    pairStep(out2, dim, h, target, distinct, lr, gH2);
    for (let k = 0; k < dim; k++) assert.ok(Math.abs(gH2[k] - gH[k]) < 1e-15);
    for (let row = 0; row < 5; row++) for (let k = 0; k < dim; k++) assert.ok(Math.abs(out2[row * dim + k] - output[row * dim + k] + lr * (gOut.get(row)?.[k] ?? 0)) < 1e-12);
    const in2 = Float64Array.from(input);
    updateRows(in2, dim, rows, gH2, lr);
    for (let row = 0; row < 10; row++) {
      const mult = rows.filter((x) => x === row).length;
      for (let k = 0; k < dim; k++) assert.ok(Math.abs(in2[row * dim + k] - input[row * dim + k] + lr * mult * gH[k]) < 1e-12);
    }
  });
});

describe('text model: training on a planted corpus', () => {
  let model: TextModel & { stats: { firstLoss: number; lastLoss: number } };
  const opts = { dim: 32, buckets: 4096, epochs: 5, lr: 0.05, minCount: 1, sample: 0, seed: 3 };
  before(() => {
    model = trainTextModel(plantedCorpus(400, 5), opts);
  });

  test('words of one topic end up closer than words of different topics', () => {
    let within = 0, nw = 0, across = 0, na = 0;
    const all = [...CATS, ...BALL];
    for (const a of all) {
      const va = wordVector(model, a);
      const sims = all.filter((b) => b !== a).map((b) => ({ b, c: cos(va, wordVector(model, b)) }));
      // Every word's 9 nearest words are its own topic's.
      const topic = CATS.includes(a) ? CATS : BALL;
      assert.ok(sims.sort((x, y) => y.c - x.c).slice(0, 9).every((s) => topic.includes(s.b)), a);
      for (const s of sims) {
        if (topic.includes(s.b)) (within += s.c), nw++;
        else (across += s.c), na++;
      }
    }
    assert.ok(within / nw > 0.8 && across / na < 0.4, `within ${within / nw}, across ${across / na}`);
    assert.ok(model.stats.lastLoss < model.stats.firstLoss, `loss ${model.stats.firstLoss} -> ${model.stats.lastLoss}`);
  });

  test('an unseen misspelt word lands near the word thanks to its n-grams; one without known n-grams is zero', () => {
    assert.equal(model.wordIndex.has('catss'), false);
    for (const [typo, word] of [['catss', 'cats'], ['footbal', 'football'], ['strikers', 'striker']]) {
      const v = wordVector(model, typo);
      const near = cos(v, wordVector(model, word));
      const other = Math.max(...(CATS.includes(word) ? BALL : CATS).map((w) => cos(v, wordVector(model, w))));
      assert.ok(near > 0.9 && near - other > 0.4, `${typo}: ${near} to ${word}, ${other} to the other topic`);
    }
    assert.ok(wordVector(model, 'zqxv').every((x) => x === 0)); // untrained buckets are zero
  });

  test('post vectors: unit length, topical, all zero without tokens', () => {
    const [a, b, c, empty, punct, unknown] = embedTexts(model, ['Purr meow kitten', { text: 'whiskers', tags: ['tabby'] }, 'offside penalty referee', '', '!!! ...', 'zqxv']);
    for (const v of [a, b, c]) assert.ok(Math.abs(norm(v) - 1) < 1e-6);
    assert.ok(cos(a, b) > cos(a, c) + 0.4, `${cos(a, b)} vs ${cos(a, c)}`);
    for (const v of [empty, punct, unknown]) assert.ok(v.every((x) => x === 0) && v.length === 32);
  });

  test('deterministic given the seed; another seed gives another model', () => {
    const again = trainTextModel(plantedCorpus(400, 5), opts);
    assert.deepEqual(again.input, model.input);
    assert.deepEqual(again.words, model.words);
    const other = trainTextModel(plantedCorpus(400, 5), { ...opts, seed: 4 });
    assert.notDeepEqual(other.input, model.input);
    // Rows are float16-exact (the file's precision).
    assert.ok(model.input.every((x) => halfToNumber(toHalf(x)) === x));
  });

  test('typed errors: bad options, nothing to train on', () => {
    const is = (code: string) => (e: unknown) => e instanceof TextModelError && e.code === code;
    assert.throws(() => trainTextModel(['a b'], { dim: 0 }), is('BAD_PARAM'));
    assert.throws(() => trainTextModel(['a b'], { maxn: 2 }), is('BAD_PARAM'));
    assert.throws(() => trainTextModel(['a b'], { lr: -1 }), is('BAD_PARAM'));
    assert.throws(() => trainTextModel(['', '!!!'], {}), is('EMPTY_CORPUS'));
    assert.throws(() => trainTextModel(['once only'], { minCount: 2 }), is('EMPTY_CORPUS'));
  });
});

describe('text model: ONNX', () => {
  let dir: string;
  let runtime: OnnxRuntime;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'memer-text-'));
    runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });
  });
  after(async () => {
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the ONNX embedding equals the TS embedding (max abs diff < 1e-5), from a file read back bit for bit', async () => {
    // Default buckets (2^16) and dim (64): the file size of a real model.
    const model = trainTextModel(plantedCorpus(300, 8), { epochs: 2, minCount: 1, seed: 9 });
    assert.equal(model.buckets, DEFAULT_TEXT_TRAIN_OPTIONS.buckets);
    const bytes = textModelToOnnx(model);
    const path = join(dir, 'text.onnx');
    writeFileSync(path, bytes);
    const rows = model.words.length + model.buckets;
    assert.ok(Math.abs(statSync(path).size - rows * 64 * 2) < 4096, `file ${statSync(path).size} bytes for ${rows} rows`);
    // The defaults' largest model (50k words) stays under 16 MB.
    assert.ok(textModelBytes(DEFAULT_TEXT_TRAIN_OPTIONS.maxWords, DEFAULT_TEXT_TRAIN_OPTIONS.buckets, DEFAULT_TEXT_TRAIN_OPTIONS.dim) < 16 * 2 ** 20);

    const back = await readTextModel(path);
    assert.deepEqual(back.words, model.words);
    assert.deepEqual(back.input, model.input);
    assert.equal(back.info['memer.train.method'], 'skipgram-negative-sampling');

    const docs = [
      'purr meow kitten', // in vocabulary
      'catss footbal', // unseen words: n-grams only
      '', // missing
      { text: 'Referee! Offside, penalty; referee again', tags: ['match'] }, // repeats, tags
      CATS.concat(BALL).join(' ').repeat(3), // long: many rows
      'zqxv', // untrained rows only: zero
    ];
    const embedder = await TextEmbedder.open(runtime, path, { batch: 4 }); // two runs, padded differently
    const onnx = await embedder.embed(docs);
    const ts = embedTexts(back, docs);
    assert.equal(onnx.length, docs.length);
    let worst = 0;
    for (let i = 0; i < docs.length; i++) {
      assert.equal(onnx[i].length, 64);
      for (let k = 0; k < 64; k++) worst = Math.max(worst, Math.abs(onnx[i][k] - ts[i][k]));
    }
    assert.ok(worst < 1e-5, `max abs diff ${worst}`);
    assert.ok(onnx[2].every((x) => x === 0) && onnx[5].every((x) => x === 0));
    assert.deepEqual(embedTexts(model, docs), ts); // the trained and the read-back model agree exactly
    await embedder.dispose();
  });

  test('encodeDoc folds the two means: weights sum to 1 over a post with tokens', () => {
    const model = trainTextModel(plantedCorpus(50, 1), { dim: 8, buckets: 512, epochs: 1, minCount: 1 });
    const { weights } = encodeDoc(model, 'cats cats unseenword');
    assert.ok(Math.abs(weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.equal(encodeDoc(model, '').rows.length, 0);
  });

  test('a file that is not a text model is BAD_MODEL', async () => {
    const is = (e: unknown) => e instanceof TextModelError && e.code === 'BAD_MODEL';
    await assert.rejects(readTextModel(new Uint8Array([1, 2, 3, 4, 5])), is);
    const { tinyModel } = await import('../onnx/tiny-model.js');
    await assert.rejects(readTextModel(tinyModel()), is);
    await assert.rejects(TextEmbedder.open(runtime, tinyModel()), is);
  });

  test('training speed: corpus tokens per second (reported)', (t) => {
    const r = new Rng(4);
    const vocab = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}x${(i * 7919 % 3000).toString(36)}`);
    // Zipf-ish word choice, 12 tokens per post, 3 tags.
    const pick = () => vocab[Math.floor(vocab.length * r.next() ** 2)];
    const docs = Array.from({ length: 4000 }, () => ({ text: Array.from({ length: 12 }, pick).join(' '), tags: [pick(), pick(), pick()] }));
    const m = trainTextModel(docs, { epochs: 1, seed: 2 });
    const { tokens, pairs, seconds } = m.stats;
    t.diagnostic(`text model training: ${(tokens / seconds).toFixed(0)} tokens/s, ${(pairs / seconds).toFixed(0)} pairs/s (dim 64, window 5, 5 negatives, sample 1e-3, ${tokens} tokens, ${seconds.toFixed(2)} s incl. setup)`);
    assert.ok(tokens / seconds > 2000);
  });
});
