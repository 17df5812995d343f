/**
 * MEMER prediction without a database (paper eq. 12): the vectors of posts under a set of active models, from their
 * features and views. MemerService reads those (or takes an upload's) and calls it.
 */
import { halvesToFloats } from '../../lib/float16.js';
import type { Modality as DatasetModality } from '../../datasets/types.js';
import { bytesToHalves, bytesToVector } from '../../lib/vectors.js';
import type { PostFeatures } from '../../ml/memer/inference.js';
import { normalisedFreq } from '../../ml/pipeline/memer-model.js';
import type { ActiveModel, Ensemble } from '../models/registry.js';
import { modalityNames, type MediaType, type Modality } from '../types.js';
import { hashedTextRows, type PostContent } from './hashed-text.js';
import type { PostEmbeddingRow } from '../../data/embeddings.js';

export interface PostRef {
  key: number;
  mediaType: MediaType;
}

/** A feature vector as stored (PostFeature row). */
export interface StoredFeature {
  modality: Modality;
  dtype: 'FLOAT16' | 'FLOAT32';
  data: Uint8Array;
}

export interface Embedded {
  postKey: number;
  signalKey: number;
  signal: string;
  vector: Float32Array;
  version: string;
}

export type Features = PostFeatures['features'];

const inputName = (m: Modality) => modalityNames[m] as DatasetModality;

/** Stored feature rows as model inputs, by post key. */
export function decodeFeatures(rows: readonly (StoredFeature & { postId: number })[]): Map<number, Features> {
  const features = new Map<number, Features>();
  for (const f of rows) {
    let m = features.get(f.postId);
    if (!m) features.set(f.postId, (m = {}));
    m[inputName(f.modality)] = f.dtype === 'FLOAT16' ? halvesToFloats(bytesToHalves(f.data)) : bytesToVector(f.data);
  }
  return features;
}

/** The model inputs of a post being registered, from its float16 halves (no stored bytes to read back). */
export function uploadFeatures(features: readonly { modality: Modality; halves: Uint16Array }[]): Features {
  return Object.fromEntries(features.map((f) => [inputName(f.modality), halvesToFloats(f.halves)]));
}

/**
 * Whether any of `models` reads the posts' text or tags: a text feature hashed from them (`memer train --hash-text`),
 * or a prior with a tag input (a linear prior with its tag rows, a tag-average prior).
 */
export const needsContent = (models: readonly ActiveModel[], posts: readonly PostRef[]) =>
  models.some((m) => (m.hashedText || m.embedder.readsTags) && posts.some((p) => p.mediaType === m.mediaType));

/**
 * The MEMER vectors of `posts` under every model of their media type: `rows` to store (source MEMER, the views they
 * were computed at) and `out` for the caller, in the same order. `views`: by `${postKey}:${signalKey}` (absent: 0).
 * `content`: the posts' text and tags, by key, for models trained with a hashed text feature (needsContent).
 * Models of an `ensembles` entry run together in one session; the others one by one.
 */
export async function predictVectors(
  models: readonly ActiveModel[],
  posts: readonly PostRef[],
  stored: ReadonlyMap<number, Features>,
  views: ReadonlyMap<string, number> = new Map(),
  ensembles: readonly Ensemble[] = [],
  content: ReadonlyMap<number, PostContent> = new Map(),
): Promise<{ rows: PostEmbeddingRow[]; out: Embedded[] }> {
  const features = withHashedText(models, posts, stored, content);
  const active = new Set(models.map((m) => m.versionKey));
  const merged = ensembles.filter((e) => e.models.every((m) => active.has(m.versionKey)));
  const alone = models.filter((m) => !merged.some((e) => e.models.includes(m)));
  const freqOf = (model: ActiveModel, post: PostRef) => normalisedFreq(views.get(`${post.key}:${model.signalKey}`) ?? 0, model.freqScale);
  // A model whose prior reads tags gets the post's (none stored: [], its "no known tag" row); others ignore them.
  const tagsOf = (model: ActiveModel, post: PostRef) => (model.embedder.readsTags ? content.get(post.key)?.tags ?? [] : undefined);
  // Each model (or ensemble) has its own session: run them side by side.
  const perRun = await Promise.all([
    ...alone.map(async (model) => {
      const batch = usableBatch(model, posts, features(model));
      if (batch.length === 0) return [];
      const inputs: PostFeatures[] = batch.map(({ post, input }) => ({ features: input, freq: freqOf(model, post), tags: tagsOf(model, post) }));
      const vectors = batch.length === 1 ? [await model.embedder.embed(inputs[0])] : splitRows(await model.embedder.embedMany(inputs), batch.length);
      return batch.map(({ post }, i) => ({ model, post, vector: vectors[i] }));
    }),
    ...merged.map(async ({ models: members, runner }) => {
      // Members read the same inputs, so the first one's view of the posts is every member's.
      const batch = usableBatch(members[0], posts, features(members[0]));
      if (batch.length === 0) return [];
      const freqs = members.map((m) => Float32Array.from(batch, ({ post }) => freqOf(m, post)));
      const outputs = await runner.embedAll(batch.map(({ post, input }) => ({ features: input, tags: content.get(post.key)?.tags ?? [] })), freqs);
      return members.flatMap((model, i) => {
        const vectors = splitRows(outputs[i], batch.length);
        return batch.map(({ post }, k) => ({ model, post, vector: vectors[k] }));
      });
    }),
  ]);
  const rows: PostEmbeddingRow[] = [];
  const out: Embedded[] = [];
  for (const { model, post, vector } of perRun.flat()) {
    rows.push({ postKey: post.key, signalKey: model.signalKey, source: 'MEMER', modelVersionKey: model.versionKey, vector, views: views.get(`${post.key}:${model.signalKey}`) ?? 0 });
    out.push({ postKey: post.key, signalKey: model.signalKey, signal: model.signal, vector, version: model.version });
  }
  return { rows, out };
}

/**
 * The model inputs per model: the stored (or uploaded) features, except that a model trained with `--hash-text D`
 * reads the post's hashed text feature as its text input (hashed-text.ts), whatever text vector the post has.
 */
function withHashedText(models: readonly ActiveModel[], posts: readonly PostRef[], stored: ReadonlyMap<number, Features>, content: ReadonlyMap<number, PostContent>): (model: ActiveModel) => ReadonlyMap<number, Features> {
  const byDim = new Map<number, ReadonlyMap<number, Features>>();
  for (const dim of new Set(models.flatMap((m) => (m.hashedText ? [m.hashedText] : [])))) {
    const media = new Set(models.filter((m) => m.hashedText === dim).map((m) => m.mediaType));
    const these = posts.filter((p) => media.has(p.mediaType));
    const missing = these.find((p) => !content.has(p.key));
    if (missing) throw new Error(`post ${missing.key}: no text and tags to hash for a model trained with --hash-text ${dim}`);
    const rows = hashedTextRows(these.map((p) => content.get(p.key)!), dim);
    const out = new Map<number, Features>();
    these.forEach((p, i) => {
      const { text: _replaced, ...rest } = stored.get(p.key) ?? {};
      out.set(p.key, rows[i] ? { ...rest, text: rows[i]! } : rest);
    });
    byDim.set(dim, out);
  }
  return (model) => (model.hashedText ? byDim.get(model.hashedText)! : stored);
}

/**
 * The posts of the model's media type with the model's inputs among their features. Modalities the model was not
 * trained on are left out rather than rejected; a post with none of the model's modalities gets no MEMER vector
 * (content-free, it is better served by its tag or global average). Training infers a modality's width from the data
 * (its last non-zero column), so a stored vector may be longer than the model's input by trailing zeros: cut those off.
 */
function usableBatch(model: ActiveModel, posts: readonly PostRef[], features: ReadonlyMap<number, Features>): { post: PostRef; input: Features }[] {
  const width = new Map(model.embedder.info.modalities.map((s) => [s.modality, s.dim]));
  const usable = (p: PostRef): Features =>
    Object.fromEntries(
      Object.entries(features.get(p.key) ?? {})
        .filter(([m]) => width.has(m as DatasetModality))
        .flatMap(([m, x]) => {
          if (!(model.hashedText && m === 'text')) return [[m, fitWidth(x!, width.get(m as DatasetModality)!)]];
          // Hashed columns that no training post used are not among the model's inputs: dropped (as they were zero in
          // training). A post whose tokens all fall there has no text for the model, as an all-zero row in training.
          const cut = x!.subarray(0, width.get('text')!);
          return cut.some((v) => v !== 0) ? [[m, cut]] : [];
        }),
    );
  return posts.flatMap((p) => {
    const input = p.mediaType === model.mediaType ? usable(p) : {};
    return Object.keys(input).length > 0 ? [{ post: p, input }] : [];
  });
}

/** `x` cut to `dim` values when everything past them is zero; otherwise unchanged (the model then reports the shape). */
function fitWidth(x: Float32Array, dim: number): Float32Array {
  if (x.length <= dim) return x;
  for (let j = dim; j < x.length; j++) if (x[j] !== 0) return x;
  return x.subarray(0, dim);
}

function splitRows(flat: Float32Array, n: number): Float32Array[] {
  const d = flat.length / n;
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}
