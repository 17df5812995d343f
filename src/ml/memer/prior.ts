/**
 * The prior of a residual MEMER (architecture.prior): embedding = prior(post) + dec(enc2(feat), freq). The prior is
 * what the averages baselines predict, fitted on the training posts' mature embeddings only (never the validation
 * posts'), and it is a constant table inside the graph, so the exported model carries it.
 *
 * Glossary (d = embedding size; S = the training posts; v_i = the mature embedding of post i)
 *   global       g = sum_{i in S} v_i / |S|
 *   vocabulary   the tags of S with their own average: the `priorMaxTags` most frequent ones (ties by name), in that
 *                order; column t of the `tags` input is vocabulary tag t, column T is "no known tag"
 *   tag average  a_t = (sum_{i in S, t in tags(i)} v_i + k g) / (n_t + k), k = priorSmoothing (0: TAG_AVG exactly)
 *   table        (T + 1) x d: rows a_0 .. a_{T-1}, then g
 *   tag weights  the `tags` input row of a post: 1/K at each of its K known (vocabulary) tags; or 1 at column T when
 *                it has none. prior = weights @ table: the mean of its tags' averages, else g, as TAG_AVG
 *   global prior kind 'global-average', or no tag in S: T = 0, the table is g alone and there is no `tags` input
 *   linear       kind 'linear': c + sum_m raw_m A_m + presence B (LinearPrior, fitted by the caller on S, e.g. a ridge
 *                regression of the content onto the backbone's content-only vectors); the table is c, T = 0; with
 *                LinearPrior.tags, plus the mean of the post's vocabulary tags' rows r_t (what the content map leaves
 *                unexplained, averaged per tag): the table is then rows r_t + c, then c (+ r_none), and the tag weights
 *                (which sum to 1) pick c up with the rows
 */
import type { PriorKind } from './config.js';

/** Item tags in CSR form: item i has tags ids[offsets[i] .. offsets[i + 1]], indices into `names`. */
export interface ItemTags {
  readonly names: readonly string[];
  readonly offsets: Int32Array;
  readonly ids: Int32Array;
}

/** An affine map of a post's raw content features (raw_m = 0 for a missing modality). */
export interface LinearPrior {
  /** modalities in the model's order */
  readonly modalities: readonly string[];
  /** per modality, raw width x d row-major: A_m */
  readonly weights: readonly Float32Array[];
  /** modalities x d: B (row m added when the post has modality m) */
  readonly presence: Float32Array;
  /** d: c */
  readonly bias: Float32Array;
  /** The tag part: per vocabulary tag (the `tags` input's columns) a row added to the content map, last row: no known tag. */
  readonly tags?: { readonly names: readonly string[]; readonly rows: Float32Array; readonly counts: readonly number[]; readonly smoothing: number };
  /** how it was fitted (for the model metadata) */
  readonly info?: Readonly<Record<string, unknown>>;
}

export interface Prior {
  readonly kind: Exclude<PriorKind, 'none'>;
  readonly d: number;
  /** the vocabulary: tags with their own average, in column order (T = tags.length) */
  readonly tags: readonly string[];
  /** (T + 1) x d, row-major: the tag averages, then the global average */
  readonly table: Float32Array;
  /** training posts per vocabulary tag */
  readonly counts: readonly number[];
  /** training posts the prior was fitted on */
  readonly posts: number;
  readonly smoothing: number;
  /** kind 'linear': the content map (the table is its constant c) */
  readonly linear?: LinearPrior;
}

/** A 'linear' prior from its fitted map, on `posts` training posts. */
export function linearPrior(linear: LinearPrior, d: number, posts: number): Prior {
  if (linear.bias.length !== d) throw new Error(`the linear prior has d = ${linear.bias.length}, the model ${d}`);
  const t = linear.tags;
  const T = t?.names.length ?? 0;
  if (t && t.rows.length !== (T + 1) * d) throw new Error(`the linear prior's tag rows hold ${t.rows.length} values, ${T + 1} x ${d} expected`);
  // The tag weights of a post sum to 1, so the constant c rides along in every row.
  const table = new Float32Array((T + 1) * d);
  for (let r = 0; r <= T; r++) for (let j = 0; j < d; j++) table[r * d + j] = linear.bias[j] + (t ? t.rows[r * d + j] : 0);
  return Object.freeze({ kind: 'linear', d, tags: Object.freeze([...(t?.names ?? [])]), table, counts: Object.freeze([...(t?.counts ?? [])]), posts, smoothing: t?.smoothing ?? 0, linear });
}

/** The prior fitted on `items` (indices into the rows of `embeddings`, items x d). */
export function fitPrior(
  kind: Exclude<PriorKind, 'none' | 'linear'>,
  embeddings: Float32Array,
  d: number,
  items: ArrayLike<number>,
  tags: ItemTags | undefined,
  options: { maxTags: number; smoothing: number },
): Prior {
  const global = new Float64Array(d);
  for (let k = 0; k < items.length; k++) for (let j = 0; j < d; j++) global[j] += embeddings[items[k] * d + j];
  for (let j = 0; j < d; j++) global[j] = items.length ? global[j] / items.length : 0;
  let vocab: number[] = [];
  const counts = new Map<number, number>();
  if (kind === 'tag-average' && tags && options.maxTags > 0) {
    for (let k = 0; k < items.length; k++) for (const t of distinctTags(tags, items[k])) counts.set(t, (counts.get(t) ?? 0) + 1);
    vocab = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || cmp(tags.names[a], tags.names[b])).slice(0, options.maxTags);
  }
  const T = vocab.length;
  const column = new Map(vocab.map((t, c) => [t, c]));
  const sums = new Float64Array(T * d);
  for (let k = 0; k < items.length && T > 0; k++) {
    const i = items[k];
    for (const t of distinctTags(tags!, i)) {
      const c = column.get(t);
      if (c === undefined) continue;
      for (let j = 0; j < d; j++) sums[c * d + j] += embeddings[i * d + j];
    }
  }
  const table = new Float32Array((T + 1) * d);
  const s = options.smoothing;
  for (let c = 0; c < T; c++) {
    const n = counts.get(vocab[c])!;
    for (let j = 0; j < d; j++) table[c * d + j] = (sums[c * d + j] + s * global[j]) / (n + s);
  }
  table.set(global, T * d);
  return Object.freeze({
    kind,
    d,
    tags: Object.freeze(vocab.map((t) => tags!.names[t])),
    table,
    counts: Object.freeze(vocab.map((t) => counts.get(t)!)),
    posts: items.length,
    smoothing: s,
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function distinctTags(tags: ItemTags, item: number): Set<number> {
  return new Set(tags.ids.subarray(tags.offsets[item], tags.offsets[item + 1]));
}

/** Whether the model has a `tags` input (a tag-average prior with a non-empty vocabulary). */
export function hasTagInput(prior: { tags: readonly string[] } | null | undefined): boolean {
  return !!prior && prior.tags.length > 0;
}

/** Writes a post's tag weights (T + 1 values, see the header) at `offset`; `columns` are its vocabulary columns. */
export function writeTagWeights(out: Float32Array, offset: number, T: number, columns: readonly number[] | Int32Array): void {
  out.fill(0, offset, offset + T + 1);
  const distinct = [...new Set(columns)].filter((c) => c >= 0 && c < T);
  if (distinct.length === 0) out[offset + T] = 1;
  else for (const c of distinct) out[offset + c] = 1 / distinct.length;
}

/** Vocabulary columns of tag names (unknown names are left out). */
export function tagColumns(vocabulary: ReadonlyMap<string, number>, names: readonly string[] | undefined): number[] {
  const out: number[] = [];
  for (const n of names ?? []) {
    const c = vocabulary.get(n);
    if (c !== undefined) out.push(c);
  }
  return out;
}

/** Per item, its vocabulary columns (CSR), for the batch assembler. */
export function itemTagColumns(prior: Prior, tags: ItemTags | undefined, count: number): { offsets: Int32Array; columns: Int32Array } {
  const vocab = vocabularyOf(prior);
  const byId = tags ? Int32Array.from(tags.names, (n) => vocab.get(n) ?? -1) : new Int32Array(0);
  const offsets = new Int32Array(count + 1);
  const cols: number[] = [];
  for (let i = 0; i < count; i++) {
    if (tags) for (const t of distinctTags(tags, i)) if (byId[t] >= 0) cols.push(byId[t]);
    offsets[i + 1] = cols.length;
  }
  return { offsets, columns: Int32Array.from(cols) };
}

const vocabularies = new WeakMap<Prior, ReadonlyMap<string, number>>();

/** A prior's vocabulary column by tag name, built once per (frozen) prior: priorVector runs once per post. */
function vocabularyOf(prior: Prior): ReadonlyMap<string, number> {
  let v = vocabularies.get(prior);
  if (!v) vocabularies.set(prior, (v = new Map(prior.tags.map((t, c) => [t, c]))));
  return v;
}

/** The prior vector of a post with these tag names (plain TypeScript, the graph's formula; for tests and checks). */
export function priorVector(prior: Prior, names: readonly string[] | undefined): Float32Array {
  const T = prior.tags.length;
  const w = new Float32Array(T + 1);
  writeTagWeights(w, 0, T, tagColumns(vocabularyOf(prior), names));
  const out = new Float32Array(prior.d);
  for (let c = 0; c <= T; c++) if (w[c]) for (let j = 0; j < prior.d; j++) out[j] += w[c] * prior.table[c * prior.d + j];
  return out;
}

/** JSON form for the model metadata (the table itself is a constant of the graph). */
export function priorToJson(prior: Prior): { kind: string; tags: string[]; counts: number[]; posts: number; smoothing: number; global: number[]; linear?: Record<string, unknown> } {
  return {
    ...(prior.linear ? { linear: { modalities: [...prior.linear.modalities], ...prior.linear.info } } : {}),
    kind: prior.kind,
    tags: [...prior.tags],
    counts: [...prior.counts],
    posts: prior.posts,
    smoothing: prior.smoothing,
    global: Array.from(prior.table.subarray(prior.tags.length * prior.d)),
  };
}
