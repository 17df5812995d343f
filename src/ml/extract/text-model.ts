/**
 * The default text feature (paper 2.2: post text and OCR text "through a text model", FastText in the paper). No
 * pretrained fastText vectors install offline, so memer trains a fastText-style subword embedding on the platform's
 * own text (text-train.ts: skip-gram with negative sampling, Bojanowski et al. 2017) and embeds posts with it here.
 *
 * Glossary
 *   token      a lower-cased run of letters, digits and marks (NFKC first; inner apostrophes kept: "don't"), at most
 *              MAX_WORD_CHARS code points; a post's tokens are those of its text, then those of its tags
 *   subwords   the rows that represent a token: its own row if it is in the vocabulary, plus one row per character
 *              n-gram of "<token>" (n = minn..maxn code points, "<" and ">" marking the ends), hashed FNV-1a 32 over
 *              UTF-8 into `buckets` rows after the vocabulary rows, as fastText does
 *   word vector  the mean of its subword rows (an unseen or misspelt word still has its n-grams)
 *   post vector  the mean of its tokens' word vectors, L2-normalised; all zero for a text without tokens (or whose
 *              tokens have only untrained n-grams), the "missing modality" row of the feature files
 *
 * The learnt part runs through ONNX like every learnt extractor (issue 18): `textModelToOnnx` writes the rows as a
 * float16 initializer and a graph Gather -> weighted sum -> L2 normalisation; the hashing stays in TS
 * (`encodeTexts`), which feeds per post the distinct rows it uses and each one's weight (the two means folded into
 * one weighted sum). The graph is written with onnx-proto directly: the project's IR (src/ml/graph) has no Gather,
 * Cast or integer tensors. The vocabulary and hashing settings travel in the model's metadata, so the .onnx file is
 * the whole model (`readTextModel`). A model's rows are rounded to float16 when training ends, so the TS embedding
 * (`embedTexts`), the ONNX one (`TextEmbedder`) and a model read back from its file all use the same numbers.
 */
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { halvesToFloats, toHalf } from '../../lib/float16.js';
import { ONNX_IR_VERSION, ONNX_OPSET, valueInfo } from '../graph/onnx.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import type { Session } from '../onnx/session.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT = onnx.AttributeProto.AttributeType.INT;

/** Longer tokens are cut: a 1000-character run (a hash, base64) would give 4000 n-grams and mean nothing. */
export const MAX_WORD_CHARS = 64;
/** Tokens of a post's text and of its tags that count; the rest is ignored (bounds the cost of one post). */
export const MAX_TEXT_TOKENS = 1024;
export const MAX_TAG_TOKENS = 64;
export const TEXT_MODEL_KIND = 'memer-text-subword';
const FORMAT_VERSION = '1';

export type TextModelErrorCode =
  /** A training or model option outside its range. */
  | 'BAD_PARAM'
  /** No token reaches minCount: nothing to train. */
  | 'EMPTY_CORPUS'
  /** A file that is not a memer text model, or a damaged one. */
  | 'BAD_MODEL';

export class TextModelError extends Error {
  override readonly name = 'TextModelError';
  constructor(
    readonly code: TextModelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A post's text: a string, or its text and tags. */
export type TextDoc = string | { readonly text?: string | null; readonly tags?: readonly string[] | null };

/** What turns text into rows: the vocabulary and the hashing settings (no weights). */
export interface TextVocabulary {
  readonly dim: number;
  readonly buckets: number;
  readonly minn: number;
  readonly maxn: number;
  /** Vocabulary words; word i is row i, n-gram bucket b is row words.length + b. */
  readonly words: readonly string[];
  readonly wordIndex: ReadonlyMap<string, number>;
}

export interface TextModel extends TextVocabulary {
  /** (words.length + buckets) x dim input rows, row-major, every value float16-exact. */
  readonly input: Float32Array;
  /** How it was trained (metadata; not needed to embed). */
  readonly info: Readonly<Record<string, string>>;
}

const TOKEN = /[\p{L}\p{N}\p{M}]+(?:['\u2019][\p{L}\p{N}\p{M}]+)*/gu;

/** The tokens of a text, lower-cased, capped at `max`. */
export function tokenize(text: string, max = MAX_TEXT_TOKENS): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(TOKEN)) {
    if (out.length >= max) break;
    const cps = Array.from(m[0].replace(/\u2019/g, "'"));
    out.push(cps.length > MAX_WORD_CHARS ? cps.slice(0, MAX_WORD_CHARS).join('') : cps.join(''));
  }
  return out;
}

/** A post's tokens: text tokens, then tag tokens; `textCount` of them are from the text. */
export function docTokens(doc: TextDoc): { tokens: string[]; textCount: number } {
  if (typeof doc === 'string') {
    const tokens = tokenize(doc);
    return { tokens, textCount: tokens.length };
  }
  const text = tokenize(doc.text ?? '');
  const tags: string[] = [];
  for (const tag of doc.tags ?? []) {
    if (tags.length >= MAX_TAG_TOKENS) break;
    tags.push(...tokenize(tag, MAX_TAG_TOKENS - tags.length));
  }
  return { tokens: [...text, ...tags], textCount: text.length };
}

/** FNV-1a 32-bit over the UTF-8 bytes of `s`. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  const byte = (b: number) => {
    h = Math.imul(h ^ b, 0x01000193) >>> 0;
  };
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) byte(c);
    else if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      byte(0xe0 | (c >> 12));
      byte(0x80 | ((c >> 6) & 0x3f));
      byte(0x80 | (c & 0x3f));
    } else {
      byte(0xf0 | (c >> 18));
      byte(0x80 | ((c >> 12) & 0x3f));
      byte(0x80 | ((c >> 6) & 0x3f));
      byte(0x80 | (c & 0x3f));
    }
  }
  return h >>> 0;
}

/** The character n-grams of "<word>", n = minn..maxn code points, in order of position then length. */
export function charNgrams(word: string, minn: number, maxn: number): string[] {
  const cps = Array.from(`<${word}>`);
  const out: string[] = [];
  for (let i = 0; i < cps.length; i++) {
    for (let n = minn; n <= maxn && i + n <= cps.length; n++) out.push(cps.slice(i, i + n).join(''));
  }
  return out;
}

/** A word's subword rows: its vocabulary row (if any) first, then one bucket row per n-gram (repeats kept). */
export function subwordRows(vocab: Pick<TextVocabulary, 'buckets' | 'minn' | 'maxn' | 'words' | 'wordIndex'>, word: string): Int32Array {
  const grams = vocab.buckets > 0 ? charNgrams(word, vocab.minn, vocab.maxn) : [];
  const id = vocab.wordIndex.get(word);
  const rows = new Int32Array(grams.length + (id === undefined ? 0 : 1));
  let k = 0;
  if (id !== undefined) rows[k++] = id;
  const base = vocab.words.length;
  for (const g of grams) rows[k++] = base + (fnv1a(g) % vocab.buckets);
  return rows;
}

/** Per vocabulary, a cache of subword rows by word: embedding a corpus hashes each distinct word once. */
const rowCache = new WeakMap<TextVocabulary, Map<string, Int32Array>>();
const ROW_CACHE_WORDS = 200_000;

function cachedRows(vocab: TextVocabulary, word: string): Int32Array {
  let cache = rowCache.get(vocab);
  if (!cache) rowCache.set(vocab, (cache = new Map()));
  let rows = cache.get(word);
  if (!rows) {
    rows = subwordRows(vocab, word);
    if (cache.size >= ROW_CACHE_WORDS) cache.clear();
    cache.set(word, rows);
  }
  return rows;
}

/** A post as distinct rows and weights: vector = sum_j weight_j * row_j (before normalisation). */
export interface EncodedDoc {
  rows: Int32Array;
  weights: Float64Array;
}

/** Folds mean over tokens of the mean over each token's subwords into one weight per distinct row. */
export function encodeDoc(vocab: TextVocabulary, doc: TextDoc): EncodedDoc {
  const { tokens } = docTokens(doc);
  const acc = new Map<number, number>();
  for (const t of tokens) {
    const rows = cachedRows(vocab, t);
    const w = 1 / (tokens.length * rows.length);
    for (const r of rows) acc.set(r, (acc.get(r) ?? 0) + w);
  }
  const rows = Int32Array.from(acc.keys());
  const weights = Float64Array.from(acc.values());
  return { rows, weights };
}

function normalised(sum: Float64Array): Float32Array {
  let sq = 0;
  for (const v of sum) sq += v * v;
  const out = new Float32Array(sum.length);
  if (sq === 0) return out;
  const inv = 1 / Math.sqrt(sq);
  for (let k = 0; k < sum.length; k++) out[k] = sum[k] * inv;
  return out;
}

/** A word's vector: the mean of its subword rows (not normalised). */
export function wordVector(model: TextModel, word: string): Float32Array {
  const [token] = tokenize(word, 1);
  const out = new Float32Array(model.dim);
  if (token === undefined) return out;
  const rows = cachedRows(model, token);
  for (const r of rows) for (let k = 0; k < model.dim; k++) out[k] += model.input[r * model.dim + k] / rows.length;
  return out;
}

/** Post vectors in TS (the reference for the ONNX path): one Float32Array(dim) per doc. */
export function embedTexts(model: TextModel, docs: readonly TextDoc[]): Float32Array[] {
  const d = model.dim;
  return docs.map((doc) => {
    const { rows, weights } = encodeDoc(model, doc);
    const sum = new Float64Array(d);
    for (let j = 0; j < rows.length; j++) {
      const off = rows[j] * d;
      const w = weights[j];
      for (let k = 0; k < d; k++) sum[k] += w * model.input[off + k];
    }
    return normalised(sum);
  });
}

/** A batch as the ONNX model's feeds: ids and weights [N, L], padded with row 0 and weight 0. */
export function encodeTexts(vocab: TextVocabulary, docs: readonly TextDoc[]): { ids: Float32Array; weights: Float32Array; n: number; l: number } {
  const encoded = docs.map((doc) => encodeDoc(vocab, doc));
  const l = Math.max(1, ...encoded.map((e) => e.rows.length));
  const ids = new Float32Array(docs.length * l);
  const weights = new Float32Array(docs.length * l);
  encoded.forEach((e, i) => {
    ids.set(e.rows, i * l); // row indices < 2^24 are exact in float32 (checked when the model is made)
    weights.set(e.weights, i * l);
  });
  return { ids, weights, n: docs.length, l };
}

/** Rows x dim of a model, and the limits the float32 id feed imposes. */
export function checkShape(rows: number, dim: number): void {
  if (!(Number.isInteger(dim) && dim >= 1 && dim <= 4096)) throw new TextModelError('BAD_PARAM', `dim must be an integer in [1, 4096], got ${dim}`);
  // Ids are fed as float32 (Session takes float32 only) and cast to int64 in the graph: exact below 2^24.
  if (rows > 2 ** 24) throw new TextModelError('BAD_PARAM', `words + buckets must be at most 2^24 rows, got ${rows}`);
}

/** Size of the .onnx file a model of this shape writes, about (the rows as float16 dominate). */
export function textModelBytes(words: number, buckets: number, dim: number): number {
  return (words + buckets) * dim * 2;
}

/** The model as ONNX: inputs ids, weights [N, L] (float32); output embedding [N, dim], L2-normalised. */
export function textModelToOnnx(model: TextModel): Uint8Array {
  const rows = model.words.length + model.buckets;
  checkShape(rows, model.dim);
  if (model.input.length !== rows * model.dim) throw new TextModelError('BAD_MODEL', `input has ${model.input.length} values, expected ${rows} x ${model.dim}`);
  const halves = new Uint16Array(model.input.length);
  for (let i = 0; i < halves.length; i++) halves[i] = toHalf(model.input[i]);
  const int = (name: string, i: number) => ({ name, type: INT, i });
  const node: onnxProto.onnx.INodeProto[] = [
    { opType: 'Cast', input: ['ids'], output: ['ids64'], name: 'ids64', attribute: [int('to', INT64)] },
    { opType: 'Gather', input: ['rows', 'ids64'], output: ['gathered16'], name: 'gather', attribute: [int('axis', 0)] },
    { opType: 'Cast', input: ['gathered16'], output: ['gathered'], name: 'gathered', attribute: [int('to', FLOAT)] },
    { opType: 'Unsqueeze', input: ['weights', 'axis2'], output: ['weights3'], name: 'weights3' },
    { opType: 'Mul', input: ['gathered', 'weights3'], output: ['weighted'], name: 'weighted' },
    { opType: 'ReduceSum', input: ['weighted', 'axis1'], output: ['sum'], name: 'sum', attribute: [int('keepdims', 0)] },
    { opType: 'Mul', input: ['sum', 'sum'], output: ['sq'], name: 'sq' },
    { opType: 'ReduceSum', input: ['sq', 'axis1'], output: ['sqsum'], name: 'sqsum', attribute: [int('keepdims', 1)] },
    { opType: 'Sqrt', input: ['sqsum'], output: ['norm'], name: 'norm' },
    // A post without rows (or with untrained ones only) has norm 0: 0 / tiny = the all-zero "missing" row.
    { opType: 'Max', input: ['norm', 'tiny'], output: ['safe'], name: 'safe' },
    { opType: 'Div', input: ['sum', 'safe'], output: ['embedding'], name: 'embedding' },
  ];
  const raw = new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength);
  const initializer: onnxProto.onnx.ITensorProto[] = [
    { name: 'rows', dataType: FLOAT16, dims: [rows, model.dim], rawData: raw },
    { name: 'axis1', dataType: INT64, dims: [1], int64Data: [1] },
    { name: 'axis2', dataType: INT64, dims: [1], int64Data: [2] },
    { name: 'tiny', dataType: FLOAT, dims: [], rawData: new Uint8Array(Float32Array.of(1e-30).buffer) },
  ];
  const metadata: Record<string, string> = {
    ...model.info,
    purpose: TEXT_MODEL_KIND,
    'memer.text.version': FORMAT_VERSION,
    'memer.text.dim': String(model.dim),
    'memer.text.buckets': String(model.buckets),
    'memer.text.minn': String(model.minn),
    'memer.text.maxn': String(model.maxn),
    // Tokens hold no whitespace, so a newline separates words unambiguously.
    'memer.text.words': model.words.join('\n'),
  };
  const m = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'memer',
    producerVersion: '1',
    docString: 'memer subword text embedding: post vector = L2-normalised weighted sum of gathered rows (ids and weights from src/ml/extract/text-model.ts encodeTexts)',
    graph: {
      name: 'text_subword',
      node,
      initializer,
      input: [valueInfo('ids', ['N', 'L']), valueInfo('weights', ['N', 'L'])],
      output: [valueInfo('embedding', ['N', model.dim])],
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(m).finish();
}

function intMeta(meta: Record<string, string>, key: string, min: number, max: number): number {
  const v = Number(meta[key]);
  if (!Number.isInteger(v) || v < min || v > max) throw new TextModelError('BAD_MODEL', `metadata ${key} is ${JSON.stringify(meta[key])}, expected an integer in [${min}, ${max}]`);
  return v;
}

function vocabularyFrom(meta: Record<string, string>): TextVocabulary {
  if (meta.purpose !== TEXT_MODEL_KIND) throw new TextModelError('BAD_MODEL', `not a memer text model (purpose ${JSON.stringify(meta.purpose ?? null)})`);
  if (meta['memer.text.version'] !== FORMAT_VERSION) throw new TextModelError('BAD_MODEL', `text model format ${meta['memer.text.version']}, this memer reads ${FORMAT_VERSION}`);
  const words = meta['memer.text.words'] ? meta['memer.text.words'].split('\n') : [];
  const minn = intMeta(meta, 'memer.text.minn', 1, MAX_WORD_CHARS + 2);
  return {
    dim: intMeta(meta, 'memer.text.dim', 1, 4096),
    buckets: intMeta(meta, 'memer.text.buckets', 0, 2 ** 24),
    minn,
    maxn: intMeta(meta, 'memer.text.maxn', minn, MAX_WORD_CHARS + 2),
    words,
    wordIndex: new Map(words.map((w, i) => [w, i])),
  };
}

async function bytesOf(source: Uint8Array | string): Promise<Uint8Array> {
  return typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
}

function decode(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new TextModelError('BAD_MODEL', `not an ONNX model: ${(err as Error).message}`);
  }
}

function metadataOf(model: onnxProto.onnx.ModelProto): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const p of model.metadataProps) if (p.key) meta[p.key] = p.value ?? '';
  return meta;
}

/** A model back from its .onnx file (path or bytes): vocabulary, settings and rows. */
export async function readTextModel(source: Uint8Array | string): Promise<TextModel> {
  const proto = decode(await bytesOf(source));
  const meta = metadataOf(proto);
  const vocab = vocabularyFrom(meta);
  const init = proto.graph?.initializer?.find((t) => t.name === 'rows');
  const rows = vocab.words.length + vocab.buckets;
  const raw = init?.rawData;
  if (!init || init.dataType !== FLOAT16 || !raw || raw.byteLength !== rows * vocab.dim * 2) {
    throw new TextModelError('BAD_MODEL', `the rows initializer is missing or not float16 [${rows}, ${vocab.dim}]`);
  }
  const halves = new Uint16Array(raw.byteLength / 2);
  new Uint8Array(halves.buffer).set(raw); // copy: the decoded bytes may be unaligned
  const info: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (!k.startsWith('memer.text.') && k !== 'purpose') info[k] = v;
  return { ...vocab, input: halvesToFloats(halves), info };
}

/** The text model through onnxruntime (src/ml/onnx), as serving and `memer extract` run it. */
export class TextEmbedder {
  private constructor(
    readonly vocabulary: TextVocabulary,
    private readonly session: Session,
    private readonly batch: number,
  ) {}

  /** Opens a text model file; `batch` posts share one run (their rows padded to the longest). */
  static async open(runtime: OnnxRuntime, source: Uint8Array | string, opts: { batch?: number } = {}): Promise<TextEmbedder> {
    const batch = opts.batch ?? 64;
    if (!(Number.isInteger(batch) && batch >= 1)) throw new TextModelError('BAD_PARAM', `batch must be a positive integer, got ${batch}`);
    const bytes = await bytesOf(source);
    const vocab = vocabularyFrom(metadataOf(decode(bytes)));
    const session = await runtime.createSession(bytes, typeof source === 'string' ? `text model ${source}` : 'text model');
    return new TextEmbedder(vocab, session, batch);
  }

  get dim(): number {
    return this.vocabulary.dim;
  }

  /** One Float32Array(dim) per doc; all zero for a doc without tokens. */
  async embed(docs: readonly TextDoc[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < docs.length; start += this.batch) {
      const part = docs.slice(start, start + this.batch);
      const { ids, weights, n, l } = encodeTexts(this.vocabulary, part);
      const res = await this.session.run({ ids: { data: ids, dims: [n, l] }, weights: { data: weights, dims: [n, l] } }, ['embedding']);
      const e = res.embedding.data;
      for (let i = 0; i < n; i++) out.push(e.slice(i * this.dim, (i + 1) * this.dim));
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
