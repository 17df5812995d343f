/**
 * The ground truth of a simulated platform, without its files: the world (posts, users, their latent factors) and the
 * calibrated intercepts that `simulate` draws for the same seed and options, and the behaviour they imply. The online
 * replay (domain/experiments/replay.ts) asks it "what does user u do when shown post p?" for whatever the service
 * serves, through the same draw as the simulated log.
 */
import type { Rng } from '../../lib/random.js';
import { calibrate, drawOutcome, Scorer, SIGNALS, type Calibration } from './impressions.js';
import { resolveOptions, type SimulatorOptions, type SimulatorOverrides } from './options.js';
import { AliasTable, streamRng } from './sampling.js';
import { buildWorld, type World } from './world.js';

/** The dataset ids of the simulator's users and posts: a prefix and the 1-based index, zero-padded to one width. */
export function simulatedIds(prefix: string, n: number): string[] {
  const width = String(n).length;
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
}

export class GroundTruth {
  readonly options: SimulatorOptions;
  readonly world: World;
  readonly calibration: Calibration;
  private readonly scorer: Scorer;
  private postIndex: Map<string, number> | null = null;
  private readonly scores = new Float64Array(5);
  private activity: AliasTable | null = null;

  constructor(overrides: SimulatorOverrides | SimulatorOptions = {}) {
    const o = resolveOptions(overrides);
    this.options = o;
    // The streams simulate() draws from, so that this is the world its files describe.
    this.world = buildWorld(o, streamRng(o.seed, 'world'));
    this.calibration = calibrate(this.world, o, streamRng(o.seed, 'calibration'));
    this.scorer = new Scorer(this.world, o);
  }

  /** The dataset id of each user, by world index. */
  userIds(): string[] {
    return simulatedIds('u', this.world.users.n);
  }

  /** The world index of a post id, or undefined for a post the simulator did not make. */
  post(id: string): number | undefined {
    this.postIndex ??= new Map(simulatedIds('p', this.world.posts.n).map((id, i) => [id, i]));
    return this.postIndex.get(id);
  }

  /** What user u does when shown post p, drawn from rng: out[0..6) in SIGNALS order, 1 where it happened. */
  outcome(u: number, p: number, rng: Rng, out = new Uint8Array(SIGNALS.length)): Uint8Array {
    drawOutcome(this.world, this.scorer, this.calibration, u, p, rng, out, this.scores);
    return out;
  }

  /** n distinct users (all of them when n >= users), drawn by activity as the log draws its impressions' users. */
  arrivals(n: number, rng: Rng): number[] {
    if (n >= this.world.users.n) return Array.from({ length: this.world.users.n }, (_, u) => u);
    this.activity ??= new AliasTable(this.world.users.activity);
    const picked = new Set<number>();
    while (picked.size < n) picked.add(this.activity.sample(rng));
    return [...picked];
  }
}
