/**
 * The online replay of the paper's A/B test (section 3.2, Table 3, Figure 3) on the synthetic platform
 * (`memer experiment simulate`, docs/experiments.md#replay). The platform is simulated, imported without its newest
 * posts, and the models trained and activated (demo/demo.ts: simulatedPlatform, as `memer train --activate`). An
 * experiment splits users between a TAG_AVG control and a MEMER arm. Then, round by round: the next held-out posts are
 * uploaded with their content features (registerPosts' path), a set of users arrives (drawn by activity, as the
 * simulated log draws its users), each gets `recommendations(stage: EARLY)` from the service, and what each user does
 * with each post shown is drawn from the simulator's ground truth (GroundTruth.outcome, the draw the log itself was
 * made with) and recorded through recordInteractions' path. Finally the experiment is stopped and its report read.
 *
 * Every served post is recorded as a view (a click row with label 0 or 1, and video_play / skip rows for videos, as the
 * simulated log records impressions), so the service never serves a user the same post twice and each positive
 * belongs to exactly one impression: the report's counts are the replay's own tallies (test/domain/experiments).
 * A round's users are distinct for the same reason. Deterministic for a seed (with one training thread: see
 * docs/experiments.md#replay): the simulator, the training and the arrivals draw from their own streams of it, and
 * each (user, post) pair's outcome from its own.
 */
import { GroundTruth, SIGNALS, type SimulatorOverrides } from '../../datasets/simulator/index.js';
import { streamRng } from '../../datasets/simulator/sampling.js';
import { conflict } from '../../errors.js';
import { brandNewPost, simulatedPlatform } from '../demo/demo.js';
import { presenceOf } from '../imports/import.service.js';
import type { InteractionInput } from '../interactions/interactions.service.js';
import type { Recommendation } from '../recommend/recommendations.service.js';
import type { Services } from '../services.js';
import type { TrainOptions } from '../training/train.service.js';
import type { ExperimentReport, MetricResult } from './report.js';

/** How large a replay is: the platform, the posts uploaded during it, and the traffic. */
export interface ReplaySize {
  /** The simulated platform (seed excepted: the replay's). Its newest `newPosts` posts are held out of the import. */
  platform: SimulatorOverrides;
  /** Posts uploaded during the replay, an equal share before each round. */
  newPosts: number;
  rounds: number;
  /** Distinct users who arrive in each round (drawn by activity). */
  usersPerRound: number;
  /** Recommendations per request (`first`). */
  first: number;
}

/**
 * Named sizes. Feature widths are reduced from the paper's (the science preset's): the replay measures ranking, and
 * MEMER's training time grows with the widths. `tiny` is the test's (seconds); `small` takes 0.5-2 minutes;
 * `standard`, the default, 2-3 minutes on 2 cores, with ~100k impressions per arm: the CTR gain's interval is about
 * +-5 percentage points wide on each side (small: +-9). Measured figures: docs/experiments.md#replay.
 */
export const REPLAY_SIZES = {
  tiny: {
    platform: { users: 200, posts: 500, interactions: 20_000, days: 20, tags: 30, dims: { videoVisual: 8, imageVisual: 8, audio: 4, text: 4 } },
    newPosts: 60,
    rounds: 3,
    usersPerRound: 80,
    first: 5,
  },
  small: {
    platform: { users: 1500, posts: 2400, interactions: 150_000, dims: { videoVisual: 64, imageVisual: 72, audio: 16, text: 16 } },
    newPosts: 400,
    rounds: 8,
    usersPerRound: 750,
    first: 10,
  },
  standard: {
    platform: { users: 5000, posts: 8000, interactions: 500_000, dims: { videoVisual: 64, imageVisual: 72, audio: 16, text: 16 } },
    newPosts: 1200,
    rounds: 10,
    usersPerRound: 2000,
    first: 10,
  },
} as const satisfies Record<string, ReplaySize>;
export type ReplaySizeName = keyof typeof REPLAY_SIZES;

export interface ReplayOptions {
  seed: number;
  size: ReplaySize;
  /** The signal whose recommendations the experiment ranks. */
  signal?: string;
  experiment?: string;
  attributionWindowSeconds?: number;
  /**
   * Training threads (`memer train --threads`), 1 by default: MEMER's training on 2 onnxruntime threads was measured
   * not to be bit-reproducible (the same seed gave another model, and another report), on 1 it is.
   */
  threads?: number;
  /** Progress lines (stderr in the CLI). */
  say?: (line: string) => void;
  onTrainProgress?: Parameters<typeof simulatedPlatform>[6];
  /** Each response and the outcome drawn for each of its posts (SIGNALS order, 1 where it happened). */
  onServed?: (served: ServedResponse) => void;
}

export interface ServedResponse {
  round: number;
  userId: string;
  recommendations: Recommendation[];
  outcomes: Uint8Array[];
}

/** What the replay served and recorded per arm, counted on its side (the report must agree). */
export interface ArmTally {
  arm: string;
  users: number;
  impressions: number;
  videoImpressions: number;
  /** Impressions with a positive, per simulator signal. */
  positives: Record<string, number>;
}

export interface ReplaySummary {
  /** The test arm's CTR gain over the control, with its 95% interval. */
  ctr: { gain: number | null; low: number | null; high: number | null };
  /** Per genre (the report's tags), on the CTR of the genre's impressions: where the test arm wins (interval above 0), loses (below 0) or ties. */
  tags: GenreVerdicts;
  /** The same on the genre's clicks per arm user (its reach: report.ts clicks_per_user). */
  reach: GenreVerdicts;
}

export interface GenreVerdicts {
  better: string[];
  worse: string[];
  ties: number;
  lowestGain: { tag: string; gain: number; low: number; high: number } | null;
}

export interface ReplayResult {
  seed: number;
  size: ReplaySize;
  experiment: string;
  platform: { posts: number; users: number; interactions: number; newPosts: number; trainingRun: string };
  report: ExperimentReport;
  served: ArmTally[];
  summary: ReplaySummary;
  seconds: { platform: number; replay: number; total: number };
}

export const REPLAY_EXPERIMENT = 'replay-tag-vs-memer';
const ARMS = [
  { name: 'control', share: 0.5, source: 'TAG_AVG' },
  { name: 'memer', share: 0.5, source: 'MEMER' },
];

/** Runs the replay on `services`, whose database must hold no posts; `dir` takes the simulated platform. */
export async function replayExperiment(services: Services, dir: string, options: ReplayOptions): Promise<ReplayResult> {
  const { seed, size } = options;
  const signal = options.signal ?? 'click';
  const name = options.experiment ?? REPLAY_EXPERIMENT;
  const say = options.say ?? (() => undefined);
  const maxBatch = services.config.maxBatch;
  for (const k of ['newPosts', 'rounds', 'usersPerRound', 'first'] as const) {
    if (!Number.isInteger(size[k]) || size[k] < 1) throw new RangeError(`replay ${k} must be a positive integer, got ${size[k]}`);
  }
  if ((await services.db.prisma.post.count()) > 0) throw conflict('the replay needs an empty database: it imports a simulated platform of its own');
  const t0 = performance.now();

  const platform = { ...size.platform, seed, writeLatent: false };
  const truth = new GroundTruth(platform);
  if (size.newPosts >= truth.world.posts.n) throw new RangeError(`replay newPosts (${size.newPosts}) must be fewer than the platform's posts (${truth.world.posts.n})`);
  say(`replay: simulating ${truth.world.posts.n} posts and ${truth.world.users.n} users, holding out the ${size.newPosts} newest...`);
  const threads = options.threads ?? 1;
  const train: TrainOptions = { seed, signals: [signal], threads, ffm: { threads } };
  const { dataset, held, trained } = await simulatedPlatform(services, dir, platform, size.newPosts, train, say, options.onTrainProgress);
  const present = presenceOf(dataset);
  const tPlatform = performance.now();

  await services.experiments.create({ name, signal, arms: ARMS, attributionWindowSeconds: options.attributionWindowSeconds, description: `memer experiment simulate, seed ${seed}`, start: true });
  const signals = new Set((await services.signals.all()).map((s) => s.name));
  const userIds = truth.userIds();
  const arrivals = streamRng(seed, 'replay-arrivals');
  const tallies = new Map<string, ArmTally & { userSet: Set<string> }>();
  const tally = (arm: string) => {
    let t = tallies.get(arm);
    if (!t) tallies.set(arm, (t = { arm, users: 0, impressions: 0, videoImpressions: 0, positives: Object.fromEntries(SIGNALS.map((s) => [s, 0])), userSet: new Set() }));
    return t;
  };

  for (let round = 0; round < size.rounds; round++) {
    const tr = performance.now();
    const upload = held.slice(Math.floor((held.length * round) / size.rounds), Math.floor((held.length * (round + 1)) / size.rounds));
    for (let i = 0; i < upload.length; i += maxBatch) await services.uploads.register(upload.slice(i, i + maxBatch).map((p) => brandNewPost(services, dataset, p, present)));
    const interactions: InteractionInput[] = [];
    let impressions = 0;
    let clicks = 0;
    for (const u of truth.arrivals(size.usersPerRound, arrivals)) {
      const userId = userIds[u];
      const recommendations = await services.recommendations.recommend({ userId, signal, first: size.first, stage: 'EARLY' }, services.loaders());
      const outcomes = recommendations.map((r) => {
        const p = truth.post(r.post.id);
        if (p === undefined) throw new Error(`the service served ${r.post.id}, a post the simulator did not make`);
        // Drawn from the pair's own stream: what u would do with p is fixed whichever arm (and whenever) shows it, so
        // the arms face the same potential outcomes and a difference in one arm's lists never reshuffles the other's.
        const o = truth.outcome(u, p, streamRng(seed, `replay-outcome ${u} ${p}`), new Uint8Array(SIGNALS.length));
        const video = truth.world.posts.media[p] === 0;
        // A view is a click row with its label; like, share and favorite only when they happen; a video's watch rows.
        SIGNALS.forEach((s, k) => {
          const row = k === 0 || (k <= 3 ? o[k] === 1 : video);
          if (row && signals.has(s)) interactions.push({ userId, postId: r.post.id, signal: s, label: o[k] });
        });
        if (r.arm) {
          const t = tally(r.arm);
          t.userSet.add(userId);
          t.impressions++;
          if (video) t.videoImpressions++;
          SIGNALS.forEach((s, k) => (t.positives[s] += o[k]));
        }
        return o;
      });
      impressions += recommendations.length;
      clicks += outcomes.reduce((n, o) => n + o[0], 0);
      options.onServed?.({ round, userId, recommendations, outcomes });
    }
    for (let i = 0; i < interactions.length; i += maxBatch) await services.uploads.record(interactions.slice(i, i + maxBatch));
    say(`replay: round ${round + 1}/${size.rounds}: ${upload.length} new posts, ${size.usersPerRound} users, ${impressions} impressions, ${clicks} clicks (${((performance.now() - tr) / 1000).toFixed(1)} s)`);
  }

  await services.experiments.stop(name);
  const report = await services.experiments.report(name);
  const tEnd = performance.now();
  return {
    seed,
    size,
    experiment: name,
    platform: { posts: dataset.items.ids.length, users: dataset.userIds.length, interactions: trained.dataset.interactions, newPosts: held.length, trainingRun: trained.run },
    report,
    served: ARMS.map((a) => {
      const { userSet, ...t } = tally(a.name);
      return { ...t, users: userSet.size };
    }),
    summary: summarize(report),
    seconds: { platform: (tPlatform - t0) / 1000, replay: (tEnd - tPlatform) / 1000, total: (tEnd - t0) / 1000 },
  };
}

/** The figures the issue asks of the replay: the test arm's CTR gain, and the genres where it wins or loses. */
export function summarize(report: ExperimentReport): ReplaySummary {
  const overall = testArmMetric(report.arms, 'ctr');
  return { ctr: { gain: overall?.gain ?? null, low: overall?.gainLow ?? null, high: overall?.gainHigh ?? null }, tags: genreVerdicts(report, 'ctr'), reach: genreVerdicts(report, 'clicks_per_user') };
}

function testArmMetric(arms: ExperimentReport['arms'], metric: string): MetricResult | undefined {
  return arms[1]?.metrics.find((m) => m.metric === metric);
}

function genreVerdicts(report: ExperimentReport, metric: string): GenreVerdicts {
  const out: GenreVerdicts = { better: [], worse: [], ties: 0, lowestGain: null };
  for (const t of report.tags) {
    const m = testArmMetric(t.arms, metric);
    if (!m || m.gain === null || m.gainLow === null || m.gainHigh === null) continue;
    if (m.gainLow > 0) out.better.push(t.tag);
    else if (m.gainHigh < 0) out.worse.push(t.tag);
    else out.ties++;
    if (!out.lowestGain || m.gain < out.lowestGain.gain) out.lowestGain = { tag: t.tag, gain: m.gain, low: m.gainLow, high: m.gainHigh };
  }
  return out;
}
