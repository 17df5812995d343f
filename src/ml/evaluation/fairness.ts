/**
 * "MEMER is fair across categories" as numbers (paper Figure 3; issue 20 point 6): per tag, each method's GAUC on the
 * rows of the tag's posts and MEMER minus TAG_AVG with a 95% paired bootstrap interval over those posts; per group,
 * the dispersion of those per-tag differences.
 *
 *   judged tag   a tag with at least minRows / 5 rows and minPosts / 5 posts (a tenth of a group is noise below that)
 *   worse        judged tags whose interval lies entirely below 0 (MEMER significantly worse than the tag average
 *                there); better: entirely above 0
 *   spread       the standard deviation of the per-tag differences, with their min and max
 */
import type { ScoreOrder } from './ranking.js';
import { gaucOf, scoreOrder } from './ranking.js';
import { pairedBootstrap, postsOf, verdictOf } from './comparisons.js';
import type { EvalRows } from './scoring.js';
import type { Method, TagGain } from './types.js';

/** The rows `subset` of `rows` as rows of their own. */
export function subsetRows(rows: EvalRows, subset: Int32Array): EvalRows {
  const label = Uint8Array.from(subset, (r) => rows.label[r]);
  return {
    length: subset.length,
    user: Int32Array.from(subset, (r) => rows.user[r]),
    post: Int32Array.from(subset, (r) => rows.post[r]),
    label,
    positives: label.reduce((a, b) => a + b, 0),
    group: Int32Array.from(subset, (r) => rows.group[r]),
  };
}

/** Per-tag GAUC of `methods` (indices into `scores`) and MEMER - TAG_AVG with its interval. */
export function tagGauc(
  rows: EvalRows, subset: Int32Array, scores: readonly Float64Array[], methods: readonly { method: Method; k: number }[], memer: number, tagAvg: number,
  o: { minRows: number; minPosts: number; resamples: number; seed: number },
): Pick<TagGain, 'gauc' | 'gain'> {
  const sub = subsetRows(rows, subset);
  const orders = new Map<number, ScoreOrder>();
  const gauc: TagGain['gauc'] = {};
  for (const { method, k } of methods) {
    const order = scoreOrder(Float64Array.from(subset, (r) => scores[k][r]), sub.label, sub.user);
    orders.set(k, order);
    const v = gaucOf(order).gauc;
    if (Number.isFinite(v)) gauc[method] = v;
  }
  if (memer < 0 || tagAvg < 0 || !orders.has(memer) || !orders.has(tagAvg)) return { gauc, gain: null };
  const insufficient = sub.length < o.minRows / 5 || postsOf(sub) < o.minPosts / 5;
  const [c] = pairedBootstrap(sub, [orders.get(memer)!, orders.get(tagAvg)!], 0, [1], { resamples: o.resamples, level: 0.95, seed: o.seed }).filter((x) => x.metric === 'gauc');
  return { gauc, gain: { baseline: 'TAG_AVG', diff: c.diff, ci: c.ci, verdict: verdictOf(c.ci, insufficient) } };
}

export interface FairnessRow {
  signal: string;
  mediaType: string;
  /** tags with a MEMER - TAG_AVG difference, and those judged (enough rows) */
  tags: number;
  judged: number;
  worse: number;
  better: number;
  /** sd, min and max of the per-tag differences (judged tags) */
  spread: number;
  min: number;
  max: number;
}

export function fairnessOf(perTag: readonly TagGain[]): FairnessRow[] {
  const keys = [...new Set(perTag.map((t) => `${t.signal}/${t.mediaType}`))];
  return keys.map((key) => {
    const tags = perTag.filter((t) => `${t.signal}/${t.mediaType}` === key && t.gain && Number.isFinite(t.gain.diff));
    const judged = tags.filter((t) => t.gain!.verdict !== null);
    const d = judged.map((t) => t.gain!.diff);
    const mean = d.reduce((a, b) => a + b, 0) / Math.max(1, d.length);
    const sd = d.length > 1 ? Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (d.length - 1)) : NaN;
    const [signal, mediaType] = key.split('/');
    return {
      signal, mediaType, tags: tags.length, judged: judged.length,
      worse: judged.filter((t) => t.gain!.verdict === 'loss').length,
      better: judged.filter((t) => t.gain!.verdict === 'win').length,
      spread: sd, min: d.length ? Math.min(...d) : NaN, max: d.length ? Math.max(...d) : NaN,
    };
  });
}
