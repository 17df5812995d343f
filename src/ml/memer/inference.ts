/**
 * Serving a MEMER inference model through the runtime: single posts go through the micro-batcher (concurrent requests
 * share one run), batches go straight to the session. Missing modalities are fed as zero rows with presence 0.
 * A model with a tag-average prior (metadata memer.prior) has a `tags` input: the embedder writes it from the post's
 * tag names (1/K at each of its K tags in the model's vocabulary, else the "no known tag" column: the global average);
 * such a model rejects a post without `tags` (MISSING_INPUT) rather than silently serving the global prior.
 */
import type { Modality } from '../../datasets/types.js';
import { MicroBatcher, type BatcherOptions } from '../onnx/batcher.js';
import type { ModelSource, OnnxRuntime } from '../onnx/runtime.js';
import { ModelInputError, type Feed, type Session } from '../onnx/session.js';
import { parseMemerMetadata, type MemerModelInfo } from './export.js';
import { INPUT, OUTPUT } from './model.js';
import { tagColumns, writeTagWeights } from './prior.js';

/**
 * One post: features per modality it has (raw, as extracted), its normalised frequency and, for a model with a
 * tag-average prior (MemerEmbedder.readsTags), its tag names: required there ([] or no known tag: the prior is the
 * global average), ignored by other models.
 */
export interface PostFeatures {
  features: Partial<Record<Modality, Float32Array>>;
  freq: number;
  tags?: readonly string[];
}

export class MemerEmbedder {
  private readonly batcher: MicroBatcher;
  /** A zero row per modality, fed (read-only) for a post that lacks it. */
  private readonly zeros = new Map<Modality, Float32Array>();
  /** Vocabulary columns of the `tags` input (empty map: the model has no such input). */
  private readonly vocabulary: ReadonlyMap<string, number>;
  private readonly tagWidth: number;

  private constructor(
    readonly session: Session,
    readonly info: MemerModelInfo,
    batching: Partial<BatcherOptions>,
  ) {
    this.batcher = new MicroBatcher(session, { ...batching, outputs: [OUTPUT.embedding] });
    for (const spec of info.modalities) this.zeros.set(spec.modality, new Float32Array(spec.dim));
    const withTags = info.inputs.includes(INPUT.tags);
    const vocab = withTags ? info.prior?.tags ?? [] : [];
    if (withTags && vocab.length === 0) throw new ModelInputError(`${info.version}: the model has a tags input but no tag vocabulary in its metadata`, 'MISSING_INPUT');
    this.vocabulary = new Map(vocab.map((t, c) => [t, c]));
    this.tagWidth = withTags ? vocab.length + 1 : 0;
  }

  /** Whether the model reads the posts' tags (a tag-average prior). */
  get readsTags(): boolean {
    return this.tagWidth > 0;
  }

  /** The `tags` input rows [n, T+1] of `posts` (a model with a tag-average prior). */
  tagRows(posts: readonly { tags?: readonly string[] }[]): Float32Array {
    const T = this.tagWidth - 1;
    const out = new Float32Array(posts.length * this.tagWidth);
    posts.forEach((p, k) => {
      // Strict: a caller that does not know about tags would otherwise silently get the global prior for every post,
      // a different model from the one trained.
      if (!p.tags) throw new ModelInputError(`${this.info.version}: the model's tag-average prior reads the post's tags: pass PostFeatures.tags ([] for a post without tags)`, 'MISSING_INPUT');
      writeTagWeights(out, k * this.tagWidth, T, tagColumns(this.vocabulary, p.tags));
    });
    return out;
  }

  /** Load (once per version key) through `runtime` and wrap. */
  static async load(runtime: OnnxRuntime, key: string, source: ModelSource, batching: Partial<BatcherOptions> = {}): Promise<MemerEmbedder> {
    const session = await runtime.load(key, source);
    return new MemerEmbedder(session, parseMemerMetadata(session.metadata), batching);
  }

  get stats(): MicroBatcher['stats'] {
    return this.batcher.stats;
  }

  /** Model inputs for `posts` (missing modalities: zeros + presence 0). */
  feeds(posts: readonly PostFeatures[]): Record<string, Float32Array> {
    const n = posts.length;
    const mods = this.info.modalities;
    const out: Record<string, Float32Array> = {};
    const presence = new Float32Array(n * mods.length);
    mods.forEach((spec, mi) => {
      const buf = new Float32Array(n * spec.dim);
      posts.forEach((p, k) => {
        const x = p.features[spec.modality];
        if (!x) return;
        if (x.length !== spec.dim) throw new ModelInputError(`${this.info.version}: ${spec.modality} has ${x.length} values, expected ${spec.dim}`, 'BAD_SHAPE');
        buf.set(x, k * spec.dim);
        presence[k * mods.length + mi] = 1;
      });
      out[INPUT.modality(spec.modality)] = buf;
    });
    for (const p of posts) {
      for (const m of Object.keys(p.features)) {
        if (!mods.some((s) => s.modality === m)) throw new ModelInputError(`${this.info.version}: model has no ${m} input (modalities: ${mods.map((s) => s.modality).join(', ')})`, 'UNKNOWN_INPUT');
      }
    }
    out[INPUT.presence] = presence;
    out[INPUT.freq] = Float32Array.from(posts, (p) => p.freq);
    if (this.tagWidth) out[INPUT.tags] = this.tagRows(posts);
    return out;
  }

  /** The d-dim embedding of one post; concurrent calls are micro-batched. The post's arrays are read, not copied. */
  async embed(post: PostFeatures): Promise<Float32Array> {
    const mods = this.info.modalities;
    const rows: Record<string, Float32Array> = {};
    const presence = new Float32Array(mods.length);
    let known = 0;
    mods.forEach((spec, mi) => {
      const x = post.features[spec.modality];
      if (x) {
        if (x.length !== spec.dim) throw new ModelInputError(`${this.info.version}: ${spec.modality} has ${x.length} values, expected ${spec.dim}`, 'BAD_SHAPE');
        presence[mi] = 1;
        known++;
      }
      rows[INPUT.modality(spec.modality)] = x ?? this.zeros.get(spec.modality)!;
    });
    if (known !== Object.keys(post.features).length) this.feeds([post]); // throws the unknown-modality error
    rows[INPUT.presence] = presence;
    rows[INPUT.freq] = Float32Array.of(post.freq);
    if (this.tagWidth) rows[INPUT.tags] = this.tagRows([post]);
    const out = await this.batcher.submit(rows, 1);
    return out[OUTPUT.embedding];
  }

  /** Embeddings of many posts in one run, row-major [n, d]. */
  async embedMany(posts: readonly PostFeatures[]): Promise<Float32Array> {
    const rows = this.feeds(posts);
    const feeds: Record<string, Feed> = {};
    for (const s of this.session.inputs) feeds[s.name] = { data: rows[s.name], dims: [posts.length, ...(s.shape.slice(1) as number[])] };
    return (await this.session.run(feeds, [OUTPUT.embedding]))[OUTPUT.embedding].data;
  }
}
