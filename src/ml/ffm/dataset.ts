/**
 * From a Dataset (columnar interactions) to FFM rows for one signal and, optionally, one media type.
 *
 * Fields: `user` and `post` always (feature = the dense user / item index), then the requested context fields:
 *   hour   hour of day of the interaction, UTC (24 features)
 *   media  the post's media type (video, image)
 *   tags   the post's tags; a post with n tags gets n entries of value 1/sqrt(n), so the field's squared norm is 1
 *
 * Negative sampling, for signals that log positives only: after each positive (u, p, t) come `ratio` rows
 * (u, p', t) labelled 0, where p' != p is drawn
 *   popularity  in proportion to p''s positive count in the selected rows (draw a random positive row, take its post)
 *   uniform     uniformly from the posts that occur in the selected rows
 * A sampled p' may be a post the user did interact with elsewhere (no exclusion set: the usual approximation, cheap in
 * memory). Explicit negatives (label 0) are kept as they are.
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { Rng } from '../../lib/random.js';
import { FfmDataBuilder, featureSpace, type FeatureSpace, type FfmData, type FieldSpec } from './data.js';
import { FfmError } from './errors.js';

export type ContextField = 'hour' | 'media' | 'tags';
export const CONTEXT_FIELDS: readonly ContextField[] = ['hour', 'media', 'tags'];

export interface NegativeSampling {
  /** Sampled negatives per positive; a fractional part is a probability of one more. */
  readonly ratio: number;
  /** How the negative post is drawn: by popularity among the selected positives, or uniformly over seen posts. */
  readonly sampling: 'popularity' | 'uniform';
  /** 'auto' samples only when the selected rows hold no explicit negative (label 0). */
  readonly mode: 'auto' | 'always' | 'never';
  /**
   * 'positives': a drawn post the user has a positive (label 1) for in this signal anywhere in the given Dataset is
   * drawn again (it would be a false negative); 'none': no check (libffm-style, no memory for a pair set).
   */
  readonly exclude: 'none' | 'positives';
}

export const DEFAULT_NEGATIVES: NegativeSampling = Object.freeze({ ratio: 1, sampling: 'popularity', mode: 'auto', exclude: 'none' });

/** "User u has a positive (label 1) interaction with post p in `signal`" over every interaction of `ds`. */
export function positivePairs(ds: Dataset, signal: string): (user: number, item: number) => boolean {
  const s = signalIndex(ds, signal);
  const t = ds.interactions;
  const n = ds.items.ids.length;
  const set = new Set<number>();
  for (let i = 0; i < t.length; i++) if (t.signal[i] === s && t.label[i] === 1) set.add(t.user[i] * n + t.item[i]);
  return (user, item) => set.has(user * n + item);
}

export interface SignalRowsOptions {
  readonly signal: string;
  /** Keep only posts of this media type; null or absent keeps all. */
  readonly mediaType?: MediaType | null;
  /** Context fields after user and post (names from CONTEXT_FIELDS; anything else is UNKNOWN_FIELD). */
  readonly contextFields?: readonly string[];
  readonly negatives?: Partial<NegativeSampling>;
  readonly seed?: number;
  /** Interaction indices to use (e.g. one side of a split); default: every interaction of the signal / media type. */
  readonly interactions?: Int32Array;
  /** 'time': rows in interaction time order (stable); 'given': in the order of `interactions`. */
  readonly order?: 'time' | 'given';
  /**
   * A sampled negative (user, post) for which this returns true is drawn again (up to 16 draws, then the positive gets
   * one negative fewer): e.g. the user's own positives of the signal, which would be false negatives.
   */
  readonly exclude?: (user: number, item: number) => boolean;
}

export interface SignalRows {
  readonly data: FfmData;
  /** For each row, its interaction index, or -1 for a sampled negative. */
  readonly source: Int32Array;
  readonly positives: number;
  readonly explicitNegatives: number;
  readonly sampledNegatives: number;
}

/** Index of `signal` in ds.signals; throws UNKNOWN_SIGNAL. */
export function signalIndex(ds: Dataset, signal: string): number {
  const s = ds.signals.indexOf(signal);
  if (s < 0) throw new FfmError('UNKNOWN_SIGNAL', `unknown signal "${signal}"; signals are ${ds.signals.join(', ')}`);
  return s;
}

/** Checked list of context fields. */
export function contextFields(names: readonly string[] = []): ContextField[] {
  for (const n of names) {
    if (!(CONTEXT_FIELDS as readonly string[]).includes(n)) throw new FfmError('UNKNOWN_FIELD', `unknown context field "${n}"; use ${CONTEXT_FIELDS.join(', ')}`);
  }
  return [...new Set(names as readonly ContextField[])];
}

/** The feature space of a backbone: user, post, then the context fields. */
export function signalSpace(ds: Dataset, context: readonly ContextField[]): FeatureSpace {
  const sizes: Record<ContextField, number> = { hour: 24, media: MEDIA_TYPES.length, tags: ds.items.tagNames.length };
  const fields: FieldSpec[] = [{ name: 'user', size: ds.userIds.length }, { name: 'post', size: ds.items.ids.length }];
  for (const c of context) fields.push({ name: c, size: sizes[c] });
  return featureSpace(fields);
}

/** Indices of the interactions of `signal` (and media type), with their columns checked. */
export function selectInteractions(ds: Dataset, signal: string, mediaType: MediaType | null = null): Int32Array {
  const s = signalIndex(ds, signal);
  const t = ds.interactions;
  const media = mediaType === null ? -1 : MEDIA_TYPES.indexOf(mediaType);
  if (mediaType !== null && media < 0) throw new FfmError('BAD_PARAM', `unknown media type "${mediaType}"`);
  const out = new Int32Array(t.length);
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    if (t.signal[i] !== s) continue;
    const item = t.item[i];
    const user = t.user[i];
    if (!(item >= 0 && item < ds.items.ids.length)) throw new FfmError('BAD_INDEX', `interaction ${i}: item ${item} is not a known item`);
    if (!(user >= 0 && user < ds.userIds.length)) throw new FfmError('BAD_INDEX', `interaction ${i}: user ${user} is not a known user`);
    if (t.label[i] !== 0 && t.label[i] !== 1) throw new FfmError('BAD_LABEL', `interaction ${i} has label ${t.label[i]}`);
    if (!Number.isFinite(t.time[i])) throw new FfmError('NON_FINITE', `interaction ${i} has time ${t.time[i]}`);
    if (media >= 0 && ds.items.mediaType[item] !== media) continue;
    out[n++] = i;
  }
  if (n === 0) throw new FfmError('EMPTY_DATA', `no interactions for signal "${signal}"${mediaType ? ` and media type ${mediaType}` : ''}`);
  return out.slice(0, n);
}

export function buildSignalRows(ds: Dataset, options: SignalRowsOptions): SignalRows {
  const context = contextFields(options.contextFields);
  const neg: NegativeSampling = { ...DEFAULT_NEGATIVES, ...options.negatives };
  if (!(Number.isFinite(neg.ratio) && neg.ratio >= 0)) throw new FfmError('BAD_PARAM', `negative ratio must be >= 0, got ${neg.ratio}`);
  const t = ds.interactions;
  let rows = options.interactions ?? selectInteractions(ds, options.signal, options.mediaType ?? null);
  if (options.interactions) {
    const s = signalIndex(ds, options.signal);
    for (const i of rows) if (!(i >= 0 && i < t.length) || t.signal[i] !== s) throw new FfmError('BAD_INDEX', `interaction ${i} is not a "${options.signal}" interaction`);
  }
  if (rows.length === 0) throw new FfmError('EMPTY_DATA', `no interactions for signal "${options.signal}"`);
  if ((options.order ?? 'time') === 'time') rows = Int32Array.from(rows).sort((a, b) => t.time[a] - t.time[b] || a - b);

  let explicitNegatives = 0;
  for (const i of rows) if (t.label[i] === 0) explicitNegatives++;
  const positives = rows.length - explicitNegatives;
  const sample = neg.mode === 'always' || (neg.mode === 'auto' && explicitNegatives === 0);
  const rng = new Rng(options.seed ?? 1);
  if (neg.exclude !== 'none' && neg.exclude !== 'positives') throw new FfmError('BAD_PARAM', `negative exclude must be none or positives, got ${String(neg.exclude)}`);
  const sampling = sample && neg.ratio > 0;
  const own = sampling && neg.exclude === 'positives' ? positivePairs(ds, options.signal) : null;
  const exclude = own && options.exclude ? (u: number, p: number) => own(u, p) || options.exclude!(u, p) : own ?? options.exclude;
  const draw = sampling ? negativeSampler(ds, rows, neg.sampling, rng, exclude) : null;

  const space = signalSpace(ds, context);
  const perRow = 2 + context.length + (context.includes('tags') ? 4 : 0);
  const expected = Math.ceil(rows.length * (1 + (draw ? neg.ratio : 0)));
  const b = new FfmDataBuilder(space, expected, perRow);
  const source = new Int32Array(Math.max(1, expected + rows.length));
  const fieldOf = (c: ContextField) => 2 + context.indexOf(c);
  const emit = (user: number, item: number, time: number, label: number) => {
    b.add(0, user);
    b.add(1, item);
    for (const c of context) {
      if (c === 'hour') b.add(fieldOf('hour'), hourOfDay(time));
      else if (c === 'media') b.add(fieldOf('media'), ds.items.mediaType[item]);
      else {
        const s = ds.items.tagOffsets[item], e = ds.items.tagOffsets[item + 1];
        const x = 1 / Math.sqrt(Math.max(1, e - s));
        for (let a = s; a < e; a++) b.add(fieldOf('tags'), ds.items.tagIds[a], x);
      }
    }
    b.endRow(label);
  };
  let sampled = 0;
  let out = 0;
  let src = source;
  const push = (v: number) => {
    if (out === src.length) {
      const g = new Int32Array(src.length * 2);
      g.set(src);
      src = g;
    }
    src[out++] = v;
  };
  for (const i of rows) {
    const user = t.user[i], item = t.item[i], time = t.time[i];
    emit(user, item, time, t.label[i]);
    push(i);
    if (draw === null || t.label[i] !== 1) continue;
    const whole = Math.floor(neg.ratio);
    const count = whole + (rng.next() < neg.ratio - whole ? 1 : 0);
    for (let c = 0; c < count; c++) {
      const other = draw(item, user);
      if (other < 0) break;
      emit(user, other, time, 0);
      push(-1);
      sampled++;
    }
  }
  return { data: b.build(), source: src.slice(0, out), positives, explicitNegatives, sampledNegatives: sampled };
}

/** Hour of day (UTC) of an epoch-seconds time, 0..23 (also for times before 1970). */
export function hourOfDay(time: number): number {
  return ((Math.floor(time / 3600) % 24) + 24) % 24;
}

/**
 * Returns a function drawing a negative post for `user` different from `not` and not excluded (or -1 when 16 draws find
 * none).
 */
function negativeSampler(
  ds: Dataset, rows: Int32Array, sampling: NegativeSampling['sampling'], rng: Rng, exclude?: (user: number, item: number) => boolean,
): (not: number, user: number) => number {
  const t = ds.interactions;
  let pool: Int32Array;
  if (sampling === 'popularity') {
    pool = new Int32Array(rows.length);
    let n = 0;
    for (const i of rows) if (t.label[i] === 1) pool[n++] = t.item[i];
    pool = pool.slice(0, n);
  } else if (sampling === 'uniform') {
    const seen = new Uint8Array(ds.items.ids.length);
    for (const i of rows) seen[t.item[i]] = 1;
    const ids: number[] = [];
    for (let p = 0; p < seen.length; p++) if (seen[p]) ids.push(p);
    pool = Int32Array.from(ids);
  } else {
    throw new FfmError('BAD_PARAM', `unknown negative sampling "${String(sampling)}"; use popularity or uniform`);
  }
  return (not: number, user: number) => {
    if (pool.length === 0) return -1;
    for (let attempt = 0; attempt < 16; attempt++) {
      const p = pool[rng.int(pool.length)];
      if (p !== not && !exclude?.(user, p)) return p;
    }
    return -1;
  };
}
