/**
 * simulate(out, options): a synthetic short-video / image platform written as a dataset folder (docs/simulator.md).
 * Deterministic for a seed: every stage draws from its own named PRNG stream (world, features, calibration, impressions).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvWriter } from '../csv-writer.js';
import { writeItemsCsv } from '../items.js';
import { writeNpy } from '../npy.js';
import { formatIso } from '../timestamps.js';
import { MEDIA_TYPES } from '../types.js';
import { AUX_COLUMNS, writeFeatures } from './features.js';
import { SIGNALS, SIGNAL_BLOCK_WEIGHTS, writeImpressions, type Calibration, type ImpressionStats } from './impressions.js';
import { resolveOptions, type SimulatorOptions, type SimulatorOverrides } from './options.js';
import { GroundTruth, simulatedIds } from './ground-truth.js';
import { streamRng } from './sampling.js';
import type { World } from './world.js';

export { SIGNALS } from './impressions.js';
export { GroundTruth, simulatedIds } from './ground-truth.js';
export { resolveOptions, DEFAULT_SIMULATOR_OPTIONS } from './options.js';
export type { SimulatorOptions, SimulatorOverrides } from './options.js';

export interface SimulationSummary {
  out: string;
  seed: number;
  users: number;
  posts: { total: number; video: number; image: number };
  impressions: number;
  videoImpressions: number;
  /** Rows written to interactions.csv. */
  interactions: number;
  perSignal: ImpressionStats['perSignal'];
  /** Measured rates: click, video_play and skip per impression (of that media), like/share/favorite per click. */
  rates: Record<Signal6, number>;
  featureDtype: 'float32' | 'float16';
  seconds: number;
}
type Signal6 = (typeof SIGNALS)[number];

export type SimulationStage = 'world' | 'features' | 'impressions';

function idBytes(prefix: string, n: number): { ids: string[]; bytes: Uint8Array[] } {
  const ids = simulatedIds(prefix, n);
  return { ids, bytes: ids.map((s) => Buffer.from(s)) };
}

export async function simulate(out: string, overrides: SimulatorOverrides = {}, onProgress?: (stage: SimulationStage, done: number, total: number) => void): Promise<SimulationSummary> {
  const t0 = performance.now();
  const o = resolveOptions(overrides);
  mkdirSync(out, { recursive: true });
  const truth = new GroundTruth(o);
  const { world, calibration: cal } = truth;
  onProgress?.('world', 1, 1);
  const posts = idBytes('p', world.posts.n);
  const users = idBytes('u', world.users.n);
  writeItemsCsv(join(out, 'items.csv'), {
    ids: posts.ids,
    createdAt: world.posts.createdAt,
    mediaType: world.posts.media,
    tagNames: world.tagNames,
    tagOffsets: world.posts.tagOffsets,
    tagIds: world.posts.tagIds,
    text: world.posts.text,
  });
  const uw = new CsvWriter(join(out, 'users.csv'));
  uw.row(['user_id', 'activity']);
  const maxActivity = world.users.activity.reduce((a, b) => Math.max(a, b), 0);
  for (let u = 0; u < world.users.n; u++) uw.row([users.ids[u], (world.users.activity[u] / maxActivity).toPrecision(4)]);
  uw.close();

  const dtype = writeFeatures(out, world, o, streamRng(o.seed, 'features'), (d, t) => onProgress?.('features', d, t));
  const stats = writeImpressions(join(out, 'interactions.csv'), world, o, cal, streamRng(o.seed, 'impressions'), { users: users.bytes, posts: posts.bytes }, (d, t) => onProgress?.('impressions', d, t));

  const ps = stats.perSignal;
  const clicks = ps.click.positives;
  const videos = world.posts.media.reduce((s, m) => s + (m === 0 ? 1 : 0), 0);
  const summary: SimulationSummary = {
    out,
    seed: o.seed,
    users: world.users.n,
    posts: { total: world.posts.n, video: videos, image: world.posts.n - videos },
    impressions: stats.impressions,
    videoImpressions: stats.videoImpressions,
    interactions: stats.rows,
    perSignal: ps,
    rates: {
      click: clicks / Math.max(1, stats.impressions),
      like: ps.like.positives / Math.max(1, clicks),
      share: ps.share.positives / Math.max(1, clicks),
      favorite: ps.favorite.positives / Math.max(1, clicks),
      video_play: ps.video_play.positives / Math.max(1, stats.videoImpressions),
      skip: ps.skip.positives / Math.max(1, stats.videoImpressions),
    },
    featureDtype: dtype,
    seconds: 0,
  };
  writeSimulationInfo(out, o, world, cal, summary);
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/** simulation/config.json (options, layout, calibration, summary) and, if asked, the ground-truth matrices. */
function writeSimulationInfo(out: string, o: SimulatorOptions, world: World, cal: Calibration, summary: SimulationSummary): void {
  const dir = join(out, 'simulation');
  mkdirSync(dir, { recursive: true });
  const info = {
    generator: 'memer simulate (docs/simulator.md)',
    options: o,
    start: formatIso(o.start),
    factorBlocks: world.blocks,
    signalBlockWeights: SIGNAL_BLOCK_WEIGHTS,
    features: {
      visual: { width: Math.max(o.dims.videoVisual, o.dims.imageVisual), usedColumns: { video: o.dims.videoVisual, image: o.dims.imageVisual } },
      audio: { width: o.dims.audio, mediaTypes: ['video'] },
      text: { width: o.dims.text, mediaTypes: [...MEDIA_TYPES] },
      aux: { columns: AUX_COLUMNS },
      missing: 'an item without a modality has an all-zero row in that modality file',
    },
    negatives: o.negatives === 'impressions'
      ? 'click, video_play and skip: one row per impression (label 0/1); like, share, favorite: positives only'
      : 'positives only for every signal',
    calibration: cal,
    summary: { ...summary, out: undefined, seconds: undefined },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(info, null, 2) + '\n');
  if (!o.writeLatent) return;
  writeNpy(join(dir, 'post_factors.npy'), { dtype: 'float32', shape: [world.posts.n, world.k], data: world.posts.factors });
  writeNpy(join(dir, 'post_bias.npy'), { dtype: 'float32', shape: [world.posts.n, 1], data: world.posts.bias });
  writeNpy(join(dir, 'user_prefs.npy'), { dtype: 'float32', shape: [world.users.n, world.k], data: world.users.prefs });
}
