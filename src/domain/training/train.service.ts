/**
 * `memer train` on the database: export it as a dataset, run the training pipeline (FFM per signal, maturity threshold
 * M, MEMER per signal and media type; src/ml/pipeline), write the artefacts of the run to the model directory and
 * register them as model versions (FFM per signal, MEMER per signal and media type) with their metrics, with the
 * maturity curve of each signal drawn to <run>/<signal>/maturity.svg (Figure 1). Nothing
 * served changes until the run is activated (activation.ts), so a bad run can be inspected and dropped.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MediaType as DatasetMediaType } from '../../datasets/types.js';
import type { MaturityCurve } from '../../ml/maturity/curve.js';
import { maturityCurveSvg } from '../../ml/maturity/plot.js';
import { pipelineOptions, trainPipeline, type PipelineEvent, type PipelineOptions, type PipelineResult } from '../../ml/pipeline/index.js';
import type { Services } from '../services.js';
import { mediaTypeOf, type MediaType } from '../types.js';
import { writeBackbone, writeMemer, type Backbone } from './artefacts.js';
import { exportDataset } from './export.js';
import { retryTransaction } from '../../data/retry.js';
import { badInput } from '../../errors.js';
import { featurePresence } from '../../datasets/features.js';
import { withHashedText } from '../../ml/evaluation/hashed-features.js';
import type { BackboneVersionMetrics, MemerVersionMetrics } from '../models/model-metrics.js';

export interface TrainedVersion {
  version: string;
  kind: 'FFM' | 'MEMER';
  signal: string;
  mediaType: MediaType | null;
  metrics: BackboneVersionMetrics | MemerVersionMetrics;
}

export interface TrainSummary {
  run: string;
  dataset: { posts: number; users: number; interactions: number };
  versions: TrainedVersion[];
  skipped: { signal: string; mediaType: MediaType; reason: string }[];
  /** Things about the data a user should know (e.g. every interaction at the same time); `memer train` prints them. */
  warnings: string[];
  /** D of `--hash-text D`, else null. */
  hashedText: number | null;
  timings: PipelineResult['timings'] & { export: number };
}


export function runId(now = new Date()): string {
  return `run-${now.toISOString().replace(/[-:]/g, '').replace('.', '')}`;
}

export interface TrainOptions extends Partial<PipelineOptions> {
  /**
   * `memer train --hash-text D`: MEMER's text input is the D-wide hashed feature of each post's text and tags
   * (src/ml/evaluation/hashed-features.ts) instead of a stored text feature. The versions record it (`hashedText`),
   * and serving computes the same feature from the same post's text and tags (embeddings/hashed-text.ts).
   */
  hashText?: number;
}

export async function trainOnDatabase(
  services: Services,
  options: TrainOptions = {},
  onProgress: (e: PipelineEvent | { stage: 'export'; done: number; total: number }) => void = () => undefined,
): Promise<TrainSummary> {
  const { hashText, ...overrides } = options;
  const { prisma } = services.db;
  const t0 = performance.now();
  const exported = await exportDataset(prisma, (_s, done, total) => onProgress({ stage: 'export', done, total }));
  let { dataset } = exported;
  const exportSeconds = (performance.now() - t0) / 1000;
  if (dataset.interactions.length === 0) throw badInput('the database has no interactions to train on: run `memer import DIR` (or recordInteractions) first');
  const warnings = timeWarnings(dataset.interactions.time);
  if (hashText !== undefined) {
    if (!(Number.isInteger(hashText) && hashText >= 2)) throw badInput(`--hash-text must be an integer >= 2, got ${hashText}`);
    const withText = dataset.features.text ? featurePresence(dataset.features.text).reduce((n, x) => n + x, 0) : 0;
    if (withText > 0) warnings.push(`--hash-text ${hashText} replaces the stored text features of ${withText} posts: these models read the hashed text and tags instead, at serving time too`);
    dataset = withHashedText(dataset, hashText);
  } else if (Object.keys(dataset.features).length === 0) {
    warnings.push(
      'the database has no content features (no post was registered or imported with features), so MEMER has nothing to learn from: ' +
        'no MEMER model is trained and new posts are served by their tag average, else the global average. ' +
        "Add --hash-text 64 to train MEMER on a hashed feature of the posts' text and tags (the service then derives it for every upload too).",
    );
  }
  const run = overrides.version ?? runId();
  // Signals with no interaction have nothing to learn from.
  const active = new Set(Array.from(dataset.interactions.signal));
  const signals = overrides.signals ?? dataset.signals.filter((_, i) => active.has(i));
  const result = await trainPipeline(dataset, pipelineOptions({ ...overrides, signals, version: run }), onProgress);

  const versions: TrainedVersion[] = [];
  const skipped: TrainSummary['skipped'] = [];
  // Versions are registered together at the end, in one transaction: a run is listed whole or not at all.
  const rows: Parameters<typeof prisma.modelVersion.create>[0]['data'][] = [];
  const signalKey = new Map(dataset.signals.map((s, i) => [s, exported.signalKeys[i]]));
  for (const s of result.signals) {
    const backbone = toBackbone(s, dataset.items.ids, dataset.userIds, dataset.interactions, dataset.signals.indexOf(s.signal));
    const ffmMetrics: BackboneVersionMetrics = { backbone: s.backbone, ffm: s.ffm, ...(s.hybrid ? { hybrid: s.hybrid } : {}), thresholds: backbone.thresholds, posts: backbone.postIds.length, users: backbone.userIds.length };
    const artefact = writeBackbone(services.config.modelDir, run, { ...backbone, metrics: ffmMetrics });
    writeMaturityPlot(join(services.config.modelDir, artefact, 'maturity.svg'), s);
    const ffmVersion = `${run}-ffm-${s.signal}`;
    rows.push({ version: ffmVersion, kind: 'FFM', signalId: signalKey.get(s.signal)!, status: 'READY', metrics: JSON.stringify(ffmMetrics), artefact });
    versions.push({ version: ffmVersion, kind: 'FFM', signal: s.signal, mediaType: null, metrics: ffmMetrics });
    for (const [media, m] of Object.entries(s.media) as [DatasetMediaType, NonNullable<(typeof s.media)[DatasetMediaType]>][]) {
      if (!m.memer) {
        skipped.push({ signal: s.signal, mediaType: mediaTypeOf(media), reason: m.memerSkipped ?? 'no model' });
        continue;
      }
      // The stored widths: serving checks uploads against them and cuts a stored vector to the model's input when the
      // rest is zero (a trailing column zero in all training posts is not one of the model's inputs).
      // A hashed text input is computed by the service, not uploaded: it sets no width for registrations.
      const uploaded = m.memer.modalities.filter((spec) => !(hashText !== undefined && spec.modality === 'text'));
      const featureWidths = Object.fromEntries(uploaded.map((spec) => [spec.modality, Math.max(spec.dim, exported.widths[media][spec.modality] ?? 0)]));
      const hashed = hashText !== undefined && m.memer.modalities.some((spec) => spec.modality === 'text') ? { hashedText: hashText } : {};
      const metrics: MemerVersionMetrics = { ...m.memer.metrics, freqScale: m.memer.freqScale, modalities: m.memer.modalities, featureWidths, ...hashed, backbone: ffmVersion, ...(m.memer.trials.length ? { search: m.memer.trials } : {}) };
      const rel = writeMemer(services.config.modelDir, run, s.signal, mediaTypeOf(media), m.memer.onnx);
      rows.push({ version: m.memer.info.version, kind: 'MEMER', signalId: signalKey.get(s.signal)!, mediaType: mediaTypeOf(media), status: 'READY', metrics: JSON.stringify(metrics), artefact: rel });
      versions.push({ version: m.memer.info.version, kind: 'MEMER', signal: s.signal, mediaType: mediaTypeOf(media), metrics });
    }
  }
  await retryTransaction(() =>
    prisma.$transaction(async (tx) => {
      for (const data of rows) await tx.modelVersion.create({ data });
    }),
  );
  return {
    run,
    dataset: { posts: dataset.items.ids.length, users: dataset.userIds.length, interactions: dataset.interactions.length },
    versions,
    skipped,
    warnings,
    hashedText: hashText ?? null,
    timings: { ...result.timings, export: exportSeconds },
  };
}

/**
 * Training orders interactions by time (the FFM's validation rows are the latest, the maturity replay counts views in
 * time order) and breaks ties by the order they were stored in. When every interaction has the same time (the TikTok
 * import has none, `memer dataset interactions` without --time-col), that storage order is all there is: say so.
 */
export function timeWarnings(time: Float64Array): string[] {
  if (time.length < 2) return [];
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < time.length; i++) {
    if (time[i] < min) min = time[i];
    if (time[i] > max) max = time[i];
  }
  if (min !== max) return [];
  return [
    `every interaction has the same time (${new Date(min * 1000).toISOString()}): the FFM's validation rows and the maturity replay ` +
      'follow the order the interactions were imported in instead (for TikTok: the upstream train rows first, then validation and test)',
  ];
}

/** Figure 1 for a signal: its maturity curve per media type with the threshold M read from it. */
function writeMaturityPlot(path: string, s: PipelineResult['signals'][number]): void {
  const curves: MaturityCurve[] = Object.values(s.media).map((m) => {
    const t = m!.threshold;
    return { key: t.key, signal: t.signal, mediaType: t.mediaType, snapshotEvery: t.snapshotEvery, views: t.views, distance: t.distance, count: t.count, epsilon: t.epsilon, minPosts: 0, threshold: t.threshold };
  });
  if (curves.some((c) => c.views.length > 0)) writeFileSync(path, maturityCurveSvg(curves));
}

/**
 * The serving view of one signal's backbone: MATURE embeddings for the posts past M (per media type), user
 * embeddings for the users with an interaction in the signal (the others kept the FFM's random initial rows).
 */
function toBackbone(
  s: PipelineResult['signals'][number],
  itemIds: string[],
  userIds: string[],
  interactions: { length: number; user: Int32Array; signal: Uint8Array },
  signalIndex: number,
): Omit<Backbone, 'metrics'> {
  const d = s.d;
  const postRows: number[] = [];
  const thresholds: Backbone['thresholds'] = {};
  for (const [media, m] of Object.entries(s.media) as [DatasetMediaType, NonNullable<(typeof s.media)[DatasetMediaType]>][]) {
    const t = m.threshold;
    thresholds[mediaTypeOf(media)] = { threshold: t.threshold, source: t.source, views: t.views, distance: t.distance, count: t.count, epsilon: t.epsilon };
    for (let i = 0; i < m.mature.length; i++) if (m.mature[i] && s.postMask[i]) postRows.push(i);
  }
  postRows.sort((a, b) => a - b);
  const posts = new Float32Array(postRows.length * d);
  postRows.forEach((i, k) => posts.set(s.posts.subarray(i * d, (i + 1) * d), k * d));
  const seen = new Uint8Array(userIds.length);
  for (let r = 0; r < interactions.length; r++) if (interactions.signal[r] === signalIndex) seen[interactions.user[r]] = 1;
  const userRows = [...seen.keys()].filter((u) => seen[u]);
  const users = new Float32Array(userRows.length * d);
  userRows.forEach((u, k) => users.set(s.users.subarray(u * d, (u + 1) * d), k * d));
  return { signal: s.signal, dim: d, postIds: postRows.map((i) => itemIds[i]), userIds: userRows.map((u) => userIds[u]), thresholds, posts, users };
}
