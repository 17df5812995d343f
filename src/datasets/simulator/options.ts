/**
 * Parameters of the synthetic platform (generative process: docs/simulator.md). Defaults follow the paper where it
 * gives a figure (40 days, six signals, feature sizes of section 2.2, online rates of Table 3) and are otherwise small
 * enough for a laptop.
 */

/** Latent factor dimensions per block: shared ones are visible in every modality, the others in one modality only. */
export interface FactorBlocks {
  /** Seen by visual, audio and text features. */
  readonly shared: number;
  /** Seen only by the visual features. */
  readonly visual: number;
  /** Seen only by the audio features; zero for images, which have no audio. */
  readonly audio: number;
  /** Seen only by the text features. */
  readonly text: number;
}

export interface FeatureDims {
  /** Video visual width (ResNeXt3D-101: 2048). */
  readonly videoVisual: number;
  /** Image visual width (DenseNet161: 2208). visual.npy is max(videoVisual, imageVisual) wide, zero-padded. */
  readonly imageVisual: number;
  /** Audio width (VGGish: 128), videos only. */
  readonly audio: number;
  /** Text width (FastText: 100). */
  readonly text: number;
}

/** Target rates per impression (click, video_play, skip) or per click (like, share, favorite). */
export interface SignalRates {
  readonly click: number;
  readonly likeGivenClick: number;
  readonly shareGivenClick: number;
  readonly favoriteGivenClick: number;
  /** Share of video impressions with a successful play. */
  readonly videoPlay: number;
  /** Share of video impressions skipped; play + skip <= 1 (the rest are neither). */
  readonly skip: number;
}

export interface SimulatorOptions {
  /** PRNG seed; the same seed and options give byte-identical files. */
  readonly seed: number;
  /** Number of users. */
  readonly users: number;
  /** Number of posts (videos + images), created uniformly over the days. */
  readonly posts: number;
  /** Length of the log in days (the paper: 40; its split is 33 train + 7 test). */
  readonly days: number;
  /** Target number of rows in interactions.csv (met within about 1%; the summary gives the exact count). */
  readonly interactions: number;
  /** Fraction of posts that are videos. */
  readonly videoShare: number;
  /** Tag vocabulary size. */
  readonly tags: number;
  /** Zipf exponent of tag popularity (how often a tag is drawn for a post). */
  readonly tagSkew: number;
  /** Zipf exponent of user activity (share of impressions per user). */
  readonly userActivitySkew: number;
  /** Zipf exponent of posts per creator. */
  readonly creatorSkew: number;
  /** Weight of a post's tag centroid in its factors (0 = tags carry nothing, 1 = posts are their tags). */
  readonly tagInfluence: number;
  readonly factors: FactorBlocks;
  readonly dims: FeatureDims;
  /** Std of the per-dimension noise added to every feature view (signal per dimension has std ~0.5). */
  readonly featureNoise: number;
  /** Feature file dtype; auto = float16 when float32 files would exceed 256 MiB. */
  readonly featureDtype: 'auto' | 'float32' | 'float16';
  readonly rates: SignalRates;
  /** Multiplier of the user-post affinity in every signal's logit (higher = more learnable). */
  readonly affinityScale: number;
  /** Std of the log exposure weight of posts (heavier tail = more unequal view counts). */
  readonly popularitySigma: number;
  /** Freshness decay of exposure, in days: a post's share of traffic decays as exp(-age / freshnessDays). */
  readonly freshnessDays: number;
  /** 'impressions': click, video_play and skip get a row per impression (label 0 or 1); 'none': positives only. */
  readonly negatives: 'impressions' | 'none';
  /** Start of the log, epoch seconds (default 2023-01-01T00:00:00Z). */
  readonly start: number;
  /** Also write the ground truth (simulation/*.npy: post factors, post bias, user preferences). */
  readonly writeLatent: boolean;
}

export const DEFAULT_SIMULATOR_OPTIONS: Readonly<SimulatorOptions> = Object.freeze({
  seed: 1,
  users: 10_000,
  posts: 20_000,
  days: 40,
  interactions: 1_000_000,
  videoShare: 0.6,
  tags: 200,
  tagSkew: 1.1,
  userActivitySkew: 1.0,
  creatorSkew: 1.0,
  tagInfluence: 0.6,
  factors: Object.freeze({ shared: 4, visual: 4, audio: 4, text: 4 }),
  dims: Object.freeze({ videoVisual: 2048, imageVisual: 2208, audio: 128, text: 100 }),
  featureNoise: 1.0,
  featureDtype: 'auto',
  rates: Object.freeze({ click: 0.05, likeGivenClick: 0.1, shareGivenClick: 0.04, favoriteGivenClick: 0.06, videoPlay: 0.25, skip: 0.15 }),
  affinityScale: 1.5,
  popularitySigma: 1.0,
  freshnessDays: 4,
  negatives: 'impressions',
  start: 1672531200,
  writeLatent: true,
});

/** Options that may override nested objects field by field. */
export type SimulatorOverrides = Partial<Omit<SimulatorOptions, 'factors' | 'dims' | 'rates'>> & {
  factors?: Partial<FactorBlocks>;
  dims?: Partial<FeatureDims>;
  rates?: Partial<SignalRates>;
};

/** Defaults + overrides, validated; throws RangeError naming the bad option. */
export function resolveOptions(overrides: SimulatorOverrides = {}): SimulatorOptions {
  const d = DEFAULT_SIMULATOR_OPTIONS;
  const o: SimulatorOptions = Object.freeze({
    ...d,
    ...overrides,
    factors: Object.freeze({ ...d.factors, ...overrides.factors }),
    dims: Object.freeze({ ...d.dims, ...overrides.dims }),
    rates: Object.freeze({ ...d.rates, ...overrides.rates }),
  });
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(`simulator option ${what}`);
  };
  for (const k of ['users', 'posts', 'interactions', 'tags'] as const) check(Number.isInteger(o[k]) && o[k] >= 1, `${k} must be a positive integer, got ${o[k]}`);
  check(o.days > 0 && o.days <= 3650, `days must be in (0, 3650], got ${o.days}`);
  check(Number.isInteger(o.seed), `seed must be an integer, got ${o.seed}`);
  check(o.videoShare >= 0 && o.videoShare <= 1, `videoShare must be in [0, 1], got ${o.videoShare}`);
  check(o.tagInfluence >= 0 && o.tagInfluence <= 1, `tagInfluence must be in [0, 1], got ${o.tagInfluence}`);
  for (const [k, v] of Object.entries(o.factors)) check(Number.isInteger(v) && v >= 0, `factors.${k} must be a non-negative integer, got ${v}`);
  check(o.factors.shared + o.factors.visual + o.factors.audio + o.factors.text > 0, 'factors must have at least one dimension');
  for (const [k, v] of Object.entries(o.dims)) check(Number.isInteger(v) && v >= 1, `dims.${k} must be a positive integer, got ${v}`);
  for (const [k, v] of Object.entries(o.rates)) check(v > 0 && v < 1, `rates.${k} must be in (0, 1), got ${v}`);
  check(o.rates.videoPlay + o.rates.skip <= 1, 'rates.videoPlay + rates.skip must be <= 1');
  for (const k of ['tagSkew', 'userActivitySkew', 'creatorSkew', 'featureNoise', 'affinityScale', 'popularitySigma'] as const) check(o[k] >= 0, `${k} must be >= 0, got ${o[k]}`);
  check(o.freshnessDays > 0, `freshnessDays must be > 0, got ${o.freshnessDays}`);
  check(['auto', 'float32', 'float16'].includes(o.featureDtype), `featureDtype must be auto, float32 or float16, got ${o.featureDtype}`);
  check(['impressions', 'none'].includes(o.negatives), `negatives must be impressions or none, got ${o.negatives}`);
  return o;
}
