/** The evaluation's result shapes (what `memer evaluate --json` prints) and its options. */
import type { MediaType, Modality } from '../../datasets/types.js';
import type { PipelineOptions } from '../pipeline/options.js';
import type { Comparison, Verdict } from './comparisons.js';
import type { FairnessRow } from './fairness.js';

/** The paper's methods (Table 2), the mature reference, and two baselines a practitioner would pick instead. */
export type Method = 'RANDOM' | 'GLOBAL_AVG' | 'TAG_AVG' | 'RIDGE' | 'HYBRID_MF' | 'MATURE' | 'MEMER';
export const METHODS: readonly Method[] = ['RANDOM', 'GLOBAL_AVG', 'TAG_AVG', 'RIDGE', 'HYBRID_MF', 'MATURE', 'MEMER'];
/** The baselines MEMER is compared with (comparisons.ts). */
export const BASELINES: readonly Method[] = ['RANDOM', 'GLOBAL_AVG', 'TAG_AVG', 'RIDGE', 'HYBRID_MF'];

export interface ResultRow {
  signal: string;
  mediaType: MediaType;
  method: Method;
  /** MEMER's input modalities (empty for the other methods). */
  modalities: Modality[];
  /** cvar protocol: cold, warm-a, warm-b, warm-c; the time protocol: cold. */
  phase: string;
  auc: number;
  /** Per-user AUC weighted by the user's scored rows (ranking.ts), over `users` users with a positive and a negative row. */
  gauc: number;
  users: number;
  /** Evaluated posts (the bootstrap unit). */
  posts: number;
  /** Fewer scored rows than minRows or posts than minPosts: reported, excluded from verdicts. */
  insufficient: boolean;
  /** F1 at the break-even threshold: the top-P scores predicted positive (P = positives), so precision = recall. */
  f1: number;
  /** The score threshold of that F1 (the P-th largest score). */
  f1Threshold: number;
  /** (AUC - 0.5) / (AUC_MATURE - 0.5) * 100 on the same rows; null where there is no mature reference. */
  relaImpr: number | null;
  /**
   * The all-modality MEMER row, where a mature reference exists: 95% bootstrap interval of RelaImpr over posts
   * (scoring.ts bootstrapRelaImpr); an unbounded end (resamples without mature lift) is -Infinity, null in JSON.
   */
  relaImprCi?: [number, number] | null;
  /** Scored rows (positives + negatives). */
  n: number;
  positives: number;
}

export interface TagGain {
  signal: string;
  mediaType: MediaType;
  tag: string;
  n: number;
  /** AUC per method on the rows of posts with this tag (MEMER = all modalities). */
  auc: Partial<Record<Method, number>>;
  /** GAUC per method on the same rows (fairness.ts) */
  gauc: Partial<Record<Method, number>>;
  /** MEMER - TAG_AVG GAUC on the tag's rows with a 95% bootstrap interval over its posts; null without both methods */
  gain: { baseline: 'TAG_AVG'; diff: number; ci: [number, number]; verdict: Verdict | null } | null;
}

export interface ThresholdReport {
  signal: string;
  mediaType: MediaType;
  M: number;
  source: string;
  curveThreshold: number | null;
  snapshotEvery: number;
  epsilon: number;
  views: number[];
  distance: number[];
  count: number[];
  trainPosts: number;
  maturePosts: number;
  /** Test posts past M (the time protocol's evaluation posts). */
  testMaturePosts?: number;
}

export type Protocol = 'time' | 'cvar' | 'item-cold';
export const PROTOCOLS: readonly Protocol[] = ['time', 'cvar', 'item-cold'];

export interface EvaluationReport {
  protocol: Protocol;
  dataset: Record<string, unknown>;
  /** Keyed `signal/mediaType`. */
  thresholds: Record<string, ThresholdReport>;
  ffm: Record<string, unknown>[];
  memer: Record<string, unknown>[];
  results: ResultRow[];
  /** MEMER (all modalities) against each baseline per group, GAUC and AUC, with bootstrap intervals and verdicts. */
  comparisons: Comparison[];
  /** What the strong baselines learnt: RIDGE's lambda per group, HYBRID_MF's training per signal. */
  baselines: Record<string, unknown>[];
  perTag: TagGain[];
  /** Per group, the dispersion of the per-tag MEMER - TAG_AVG GAUC differences (fairness.ts); absent in older reports */
  fairness?: FairnessRow[];
  parameters: Record<string, unknown>;
  timings: Record<string, number>;
}

export interface EvaluationOptions {
  /**
   * 'time': the paper's split by post creation time (3.1.1); 'cvar': old items / warm-a,b,c / test (CVAR, MWUF);
   * 'item-cold': a seeded random share of posts held out with all their interactions (LightFM, DropoutNet).
   */
  readonly protocol: Protocol;
  /** item-cold: share of the posts (with an interaction) held out. */
  readonly coldFraction: number;
  /** item-cold: the held-out posts by id instead of a random draw (--held-out-split FILE). */
  readonly coldItems: readonly string[] | null;
  /** Groups with fewer scored rows than this are insufficient (no verdict). */
  readonly minRows: number;
  /** Groups with fewer evaluated posts than this are insufficient (no verdict). */
  readonly minPosts: number;
  /** Bootstrap resamples of the comparisons' intervals (95%). */
  readonly resamples: number;
  /** HYBRID_MF loss: BPR (the default: higher validation GAUC than WARP on TikTok's training posts, docs/hybrid-mf.md) or WARP. */
  readonly hybridLoss: 'warp' | 'bpr';
  /** Also score RIDGE and HYBRID_MF (they need content features; HYBRID_MF also trains its own model per signal). */
  readonly strongBaselines: boolean;
  /** time: posts created in the first `trainFraction` of the creation-time span train, the rest test (paper 33/40). */
  readonly trainFraction: number;
  /** time: how trainFraction cuts: of the creation-time 'span', of the 'posts' by creation time, or 'auto' (the earlier cutoff). */
  readonly splitOn: 'span' | 'posts' | 'auto';
  /** time: share of each test post's interactions held out for scoring; the FFM learns from the rest. */
  readonly heldOutFraction: number;
  /**
   * Unit of the held-out draw: 'interaction' (each interaction on its own, the default the recorded references use) or
   * 'pair' (every interaction of a (user, post) pair together, so the backbone never trained on a pair it is scored
   * on; stricter, see docs/evaluation.md "Known limitations").
   */
  readonly heldOutBy: 'interaction' | 'pair';
  /** cvar: items with more than H interactions of the signal are old (they train the FFM and MEMER). */
  readonly cvarH: number;
  /** cvar: interactions per warm set (warm-a, warm-b, warm-c); a new item needs > 3n to give a test row. */
  readonly cvarN: number;
  /** cvar: SGD learning rate of the warm-up updates of new items' embeddings (users frozen). */
  readonly warmupLr: number;
  /** Train one MEMER model per modality subset (base, base + each other modality, all): for every signal (true), none
   *  (false) or the listed signals. */
  readonly ablation: boolean | readonly string[];
  /** freq fed to MEMER for the evaluated (cold) posts: 'zero' (no views yet) or 'threshold' (freq at M). */
  readonly coldFreq: 'zero' | 'threshold';
  /** Tags shown in the per-tag (Figure 3) breakdown: the most frequent in the scored rows. */
  readonly topTags: number;
  /** Pipeline options (FFM, maturity, MEMER); its seed and signals also drive the evaluation. */
  readonly pipeline: Partial<PipelineOptions>;
}

export const DEFAULT_EVALUATION_OPTIONS: EvaluationOptions = Object.freeze({
  protocol: 'time',
  coldFraction: 0.2,
  coldItems: null,
  minRows: 1000,
  minPosts: 50,
  resamples: 1000,
  hybridLoss: 'bpr',
  strongBaselines: true,
  trainFraction: 33 / 40,
  splitOn: 'auto',
  heldOutFraction: 0.5,
  heldOutBy: 'interaction',
  cvarH: 200,
  cvarN: 20,
  warmupLr: 0.05,
  ablation: true,
  coldFreq: 'zero',
  topTags: 8,
  pipeline: Object.freeze({}),
});

export function evaluationOptions(over: Partial<EvaluationOptions> = {}): EvaluationOptions {
  const o: EvaluationOptions = Object.freeze({ ...DEFAULT_EVALUATION_OPTIONS, ...over });
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(`evaluation option ${what}`);
  };
  check(PROTOCOLS.includes(o.protocol), `protocol must be one of ${PROTOCOLS.join(', ')}, got ${o.protocol}`);
  check(o.coldFraction > 0 && o.coldFraction < 1, `coldFraction must be in (0, 1), got ${o.coldFraction}`);
  check(Number.isInteger(o.minRows) && o.minRows >= 0, `minRows must be a non-negative integer, got ${o.minRows}`);
  check(Number.isInteger(o.minPosts) && o.minPosts >= 0, `minPosts must be a non-negative integer, got ${o.minPosts}`);
  check(Number.isInteger(o.resamples) && o.resamples >= 10, `resamples must be an integer >= 10, got ${o.resamples}`);
  check(o.hybridLoss === 'warp' || o.hybridLoss === 'bpr', `hybridLoss must be warp or bpr, got ${o.hybridLoss}`);
  check(['span', 'posts', 'auto'].includes(o.splitOn), `splitOn must be span, posts or auto, got ${o.splitOn}`);
  check(o.trainFraction > 0 && o.trainFraction < 1, `trainFraction must be in (0, 1), got ${o.trainFraction}`);
  check(o.heldOutBy === 'interaction' || o.heldOutBy === 'pair', `heldOutBy must be interaction or pair, got ${o.heldOutBy}`);
  check(o.heldOutFraction > 0 && o.heldOutFraction < 1, `heldOutFraction must be in (0, 1), got ${o.heldOutFraction}`);
  check(Number.isInteger(o.cvarH) && o.cvarH >= 1, `cvarH must be an integer >= 1, got ${o.cvarH}`);
  check(Number.isInteger(o.cvarN) && o.cvarN >= 1, `cvarN must be an integer >= 1, got ${o.cvarN}`);
  check(o.warmupLr > 0, `warmupLr must be > 0, got ${o.warmupLr}`);
  check(o.coldFreq === 'zero' || o.coldFreq === 'threshold', `coldFreq must be zero or threshold, got ${o.coldFreq}`);
  check(Number.isInteger(o.topTags) && o.topTags >= 0, `topTags must be a non-negative integer, got ${o.topTags}`);
  return o;
}
