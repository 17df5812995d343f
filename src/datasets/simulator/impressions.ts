/**
 * Impressions and their outcomes. Traffic is spread evenly over hourly slots; in each slot a user is drawn by activity
 * (Zipf) and a post among those created before the slot by exposure weight (popularity x freshness, see world.ts).
 *
 * Glossary
 *   d_b        block dot product u_u[b] . f_p[b] for b in shared, visual, audio, text
 *   a_s        affinity of signal s: sum_b W[s][b] d_b (W below: which content a signal reacts to)
 *   logit_s    alpha_s + affinityScale * a_s + b_p; click ~ Bernoulli(sigmoid(logit_click)); like/share/favorite
 *              only after a click, ~ Bernoulli(sigmoid(logit_s))
 *   w          watch score (videos): alpha + affinityScale * a_watch + b_p - 0.5 (log duration - log 30) + Logistic
 *              play = w > tau_play, skip = w < tau_skip (neither in between)
 *   alpha, tau calibrated on a pilot sample so that the rates match SignalRates
 */
import type { Rng } from '../../lib/random.js';
import { CsvWriter } from '../csv-writer.js';
import { INTERACTION_COLUMNS } from '../interactions.js';
import { AliasTable, calibrateIntercept, logistic, quantile, searchPrefix, sigmoid } from './sampling.js';
import type { SimulatorOptions } from './options.js';
import type { World } from './world.js';

export const SIGNALS = ['click', 'like', 'share', 'favorite', 'video_play', 'skip'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Block weights [shared, visual, audio, text] per behaviour: shares follow the message, favourites the look, watching the sound. */
export const SIGNAL_BLOCK_WEIGHTS = Object.freeze({
  click: [1, 1, 1, 1],
  like: [1, 1, 1, 1],
  share: [1, 0.5, 0.5, 1.5],
  favorite: [1, 1.5, 0.5, 1],
  watch: [1, 1, 1.5, 0.5],
} as const);

const HOUR = 3600;
const LOG30 = Math.log(30);

export interface Calibration {
  click: number;
  like: number;
  share: number;
  favorite: number;
  playThreshold: number;
  skipThreshold: number;
  /** Share of impressions that show a video (from the pilot sample). */
  videoImpressionShare: number;
  /** Expected interactions.csv rows per impression. */
  rowsPerImpression: number;
}

export interface ImpressionStats {
  impressions: number;
  videoImpressions: number;
  rows: number;
  /** Rows and positive rows per signal. */
  perSignal: Record<Signal, { rows: number; positives: number }>;
}

/** Hourly slots that have at least one live post, and how many posts are live in each. */
class Slots {
  readonly starts: number[] = [];
  readonly live: number[] = [];

  constructor(world: World, o: SimulatorOptions) {
    const total = Math.ceil((o.days * 86400) / HOUR);
    let p = 0;
    for (let s = 0; s < total; s++) {
      const start = o.start + s * HOUR;
      while (p < world.posts.n && world.posts.createdAt[p] < start) p++;
      if (p > 0) {
        this.starts.push(start);
        this.live.push(p);
      }
    }
  }
}

/** Scores of one (user, post) pair: block dots combined per behaviour, plus the post bias. */
export class Scorer {
  private readonly d = new Float64Array(4);

  constructor(private readonly world: World, private readonly o: SimulatorOptions) {}

  /** Fills out[0..4] with the logit parts (without intercepts) of click, like, share, favorite, watch. */
  score(user: number, post: number, out: Float64Array): void {
    const { k, blocks } = this.world;
    const u = this.world.users.prefs;
    const f = this.world.posts.factors;
    for (let b = 0; b < 4; b++) {
      let s = 0;
      for (let j = blocks[b].start, end = j + blocks[b].size; j < end; j++) s += u[user * k + j] * f[post * k + j];
      this.d[b] = s;
    }
    const bias = this.world.posts.bias[post];
    const scale = this.o.affinityScale;
    const w = SIGNAL_BLOCK_WEIGHTS;
    const combine = (weights: readonly number[]) => scale * (weights[0] * this.d[0] + weights[1] * this.d[1] + weights[2] * this.d[2] + weights[3] * this.d[3]) + bias;
    out[0] = combine(w.click);
    out[1] = combine(w.like);
    out[2] = combine(w.share);
    out[3] = combine(w.favorite);
    out[4] = combine(w.watch) - 0.5 * (this.world.posts.logDuration[post] - LOG30);
  }
}

/**
 * Draws the outcome of one impression of post p to user u into out[0..6), in SIGNALS order (1 happened, 0 not):
 * click, then like/share/favorite only after a click, then for videos the watch score's video_play or skip (both 0
 * for images). The one place the ground truth decides behaviour: the log (writeImpressions) and the online replay
 * (domain/experiments/replay.ts) draw through it, in this order of random numbers.
 */
export function drawOutcome(world: World, scorer: Scorer, cal: Calibration, u: number, p: number, rng: Rng, out: Uint8Array, scores = new Float64Array(5)): void {
  scorer.score(u, p, scores);
  const click = rng.next() < sigmoid(cal.click + scores[0]) ? 1 : 0;
  out[0] = click;
  out[1] = click && rng.next() < sigmoid(cal.like + scores[1]) ? 1 : 0;
  out[2] = click && rng.next() < sigmoid(cal.share + scores[2]) ? 1 : 0;
  out[3] = click && rng.next() < sigmoid(cal.favorite + scores[3]) ? 1 : 0;
  out[4] = out[5] = 0;
  if (world.posts.media[p] === 0) {
    const score = scores[4] + logistic(rng);
    out[4] = score > cal.playThreshold ? 1 : 0;
    out[5] = score < cal.skipThreshold ? 1 : 0;
  }
}

function samplePair(world: World, users: AliasTable, slots: Slots, slot: number, rng: Rng): [number, number] {
  const live = slots.live[slot];
  const cum = world.posts.exposureCum;
  return [users.sample(rng), searchPrefix(cum, live, rng.next() * cum[live - 1])];
}

/** Fits the intercepts and watch thresholds on a pilot sample of impressions drawn exactly as the generator does. */
export function calibrate(world: World, o: SimulatorOptions, rng: Rng, pilot = 40000): Calibration {
  const slots = new Slots(world, o);
  if (slots.starts.length === 0) throw new RangeError('simulator options leave no hour with a live post: raise posts or days');
  const users = new AliasTable(world.users.activity);
  const scorer = new Scorer(world, o);
  const parts = Array.from({ length: 4 }, () => new Float64Array(pilot));
  const watch: number[] = [];
  const out = new Float64Array(5);
  for (let i = 0; i < pilot; i++) {
    const [u, p] = samplePair(world, users, slots, rng.int(slots.starts.length), rng);
    scorer.score(u, p, out);
    for (let s = 0; s < 4; s++) parts[s][i] = out[s];
    if (world.posts.media[p] === 0) watch.push(out[4] + logistic(rng));
  }
  const r = o.rates;
  const click = calibrateIntercept(parts[0], r.click);
  const clicked = Float64Array.from(parts[0], (x) => sigmoid(click + x));
  const w = Float64Array.from(watch);
  const v = watch.length / pilot;
  const l = r.likeGivenClick + r.shareGivenClick + r.favoriteGivenClick;
  return {
    click,
    like: calibrateIntercept(parts[1], r.likeGivenClick, clicked),
    share: calibrateIntercept(parts[2], r.shareGivenClick, clicked),
    favorite: calibrateIntercept(parts[3], r.favoriteGivenClick, clicked),
    playThreshold: w.length ? quantile(w, 1 - r.videoPlay) : 0,
    skipThreshold: w.length ? quantile(w, r.skip) : 0,
    videoImpressionShare: v,
    rowsPerImpression: o.negatives === 'impressions' ? 1 + 2 * v + r.click * l : r.click * (1 + l) + v * (r.videoPlay + r.skip),
  };
}

/**
 * Generates the impressions and streams interactions.csv in time order. Rows per impression: with
 * negatives = 'impressions', click always, video_play and skip always for videos (label 0/1), like/share/favorite
 * when they happen (label 1); with 'none', only the signals that happened (label 1).
 */
export function writeImpressions(
  path: string,
  world: World,
  o: SimulatorOptions,
  cal: Calibration,
  rng: Rng,
  ids: { users: Uint8Array[]; posts: Uint8Array[] },
  onProgress?: (done: number, total: number) => void,
): ImpressionStats {
  const slots = new Slots(world, o);
  const users = new AliasTable(world.users.activity);
  const scorer = new Scorer(world, o);
  const total = Math.max(1, Math.round(o.interactions / cal.rowsPerImpression));
  const signalBytes = SIGNALS.map((s) => Buffer.from(s));
  const labelBytes = [Buffer.from('0'), Buffer.from('1')];
  const stats: ImpressionStats = { impressions: 0, videoImpressions: 0, rows: 0, perSignal: Object.fromEntries(SIGNALS.map((s) => [s, { rows: 0, positives: 0 }])) as ImpressionStats['perSignal'] };
  const counts = SIGNALS.map((s) => stats.perSignal[s]);
  const all = o.negatives === 'impressions';
  const w = new CsvWriter(path);
  w.row(INTERACTION_COLUMNS);
  const emit = (u: number, p: number, s: number, time: number, label: number) => {
    w.bytes(ids.users[u]);
    w.bytes(ids.posts[p]);
    w.bytes(signalBytes[s]);
    w.number(time);
    w.bytes(labelBytes[label]);
    w.end();
    counts[s].rows++;
    counts[s].positives += label;
  };
  const scores = new Float64Array(5);
  const got = new Uint8Array(SIGNALS.length);
  const a = slots.starts.length;
  let times = new Float64Array(0);
  for (let slot = 0; slot < a; slot++) {
    const n = Math.floor((total * (slot + 1)) / a) - Math.floor((total * slot) / a);
    if (times.length < n) times = new Float64Array(n);
    for (let i = 0; i < n; i++) times[i] = slots.starts[slot] + Math.floor(rng.next() * HOUR);
    const sorted = times.subarray(0, n).sort();
    for (let i = 0; i < n; i++) {
      const [u, p] = samplePair(world, users, slots, slot, rng);
      drawOutcome(world, scorer, cal, u, p, rng, got, scores);
      const t = sorted[i];
      if (all || got[0]) emit(u, p, 0, t, got[0]);
      for (let s = 1; s <= 3; s++) if (got[s]) emit(u, p, s, t, 1);
      if (world.posts.media[p] === 0) {
        stats.videoImpressions++;
        if (all || got[4]) emit(u, p, 4, t, got[4]);
        if (all || got[5]) emit(u, p, 5, t, got[5]);
      }
    }
    stats.impressions += n;
    onProgress?.(stats.impressions, total);
  }
  w.close();
  stats.rows = w.rows - 1;
  return stats;
}
