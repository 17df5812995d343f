/**
 * The feature widths a post registration is checked against, per media type and modality. Nothing here is a constant
 * of the paper: a deployment trained on 128-d visual features (TikTok) serves 128-d visual features.
 *
 * For a media type whose widths are configured (MEMER_FEATURES_VIDEO / MEMER_FEATURES_IMAGE, the JSON file), the
 * configuration is binding, as before. Otherwise each modality's width is, in this order:
 *   1. the width the active MEMER models of the media type were trained on (recorded with the model version; for runs
 *      that predate the record, the model's input width);
 *   2. the width of the posts of the media type already stored (the newest and oldest SAMPLE posts are read; a server
 *      reads them at start and, for media types without an active model, whenever it picks up others' writes);
 *   3. the fallback: for `memer import`, the dataset's own widths; for registerPost, the built-in content extractors'
 *      widths (MEMER_EXTRACTORS=builtin, the default: a new installation takes what its own extractors make of raw
 *      media) with the paper's for the other modalities, or the paper's alone (MEMER_EXTRACTORS=off).
 * A modality none of these name is not accepted for the media type (audio for images, by default).
 */
import type { Config, FeatureDims } from '../../config/config.js';
import { readMetrics, type MemerVersionMetrics } from '../models/model-metrics.js';
import type { Prisma } from '../../data/db.js';
import type { Dataset, MediaType as DatasetMediaType, Modality } from '../../datasets/types.js';
import { MEDIA_TYPES, MODALITIES } from '../../datasets/types.js';
import { featureLayout } from '../../ml/pipeline/features.js';
import type { ModelRegistry } from '../models/registry.js';
import { mediaTypeOf, modalityNames, type MediaType } from '../types.js';

/**
 * What normalizePost checks a registration against: feature widths per media type, and where each came from (for
 * messages); and the configured tag limits (absent: the defaults).
 */
export interface FeatureRules {
  features: Record<DatasetMediaType, FeatureDims>;
  /** Per media type and modality, a few words on where the width comes from; absent: the configuration. */
  origin?: Partial<Record<DatasetMediaType, Partial<Record<Modality, string>>>>;
  /** Most tags per post and longest tag (MEMER_MAX_TAGS, MEMER_MAX_TAG_LENGTH). */
  limits?: { tags: number; tagLength: number };
}

/** An active MEMER model's feature widths (by version, for messages). */
export interface ModelWidths {
  version: string;
  mediaType: MediaType;
  widths: FeatureDims;
}

/** Posts read per end (newest, oldest) and media type to learn the stored widths. */
export const SAMPLE = 64;

const SETTING: Record<DatasetMediaType, string> = { video: 'MEMER_FEATURES_VIDEO', image: 'MEMER_FEATURES_IMAGE' };

/**
 * A MEMER version's feature widths from its metrics: `featureWidths` (recorded by `memer train`: the width of the
 * stored features, which serving cuts to the model's input when the rest is zero), else `modalities` (its inputs), else
 * `specs` (the loaded model's inputs).
 */
export function modelFeatureWidths(metrics: unknown, specs: readonly { modality: Modality; dim: number }[] = []): FeatureDims {
  const m = readMetrics<MemerVersionMetrics>(metrics);
  const out: FeatureDims = {};
  for (const s of Array.isArray(m?.modalities) ? m.modalities : specs) if (MODALITIES.includes(s.modality) && s.dim > 0) out[s.modality] = s.dim;
  for (const [k, v] of Object.entries(m?.featureWidths ?? {})) if (MODALITIES.includes(k as Modality) && Number.isInteger(v) && v > 0) out[k as Modality] = v;
  // A text input hashed from the post's text and tags is computed by the service, not uploaded: it sets no width.
  if (hashedTextOf(m)) delete out.text;
  return out;
}

/** D for a MEMER version trained with `memer train --hash-text D` (its metrics' `hashedText`), else null. */
export function hashedTextOf(metrics: unknown): number | null {
  const d: unknown = readMetrics<MemerVersionMetrics>(metrics).hashedText;
  return typeof d === 'number' && Number.isInteger(d) && d >= 2 ? d : null;
}


/** The active MEMER versions' widths, read from the database (no model loaded: for `memer import`). */
export async function activeModelWidths(prisma: Prisma): Promise<ModelWidths[]> {
  const rows = await prisma.modelVersion.findMany({ where: { kind: 'MEMER', active: true, status: 'READY' }, select: { version: true, mediaType: true, metrics: true }, orderBy: { id: 'desc' } });
  return rows.filter((r) => r.mediaType).map((r) => ({ version: r.version, mediaType: r.mediaType!, widths: modelFeatureWidths(r.metrics) }));
}

/** The widest stored feature per media type and modality among the SAMPLE newest and oldest posts of each media type. */
export async function storedWidths(prisma: Prisma, only: readonly DatasetMediaType[] = MEDIA_TYPES): Promise<Record<DatasetMediaType, FeatureDims>> {
  const out: Record<DatasetMediaType, FeatureDims> = { video: {}, image: {} };
  for (const media of only) {
    const mediaType = mediaTypeOf(media);
    const ends = await Promise.all(
      (['desc', 'asc'] as const).map((dir) => prisma.post.findMany({ where: { mediaType }, orderBy: { createdAt: dir }, take: SAMPLE, select: { id: true } })),
    );
    const ids = [...new Set(ends.flat().map((p) => p.id))];
    if (ids.length === 0) continue;
    const dims = await prisma.postFeature.groupBy({ by: ['modality'], where: { postId: { in: ids } }, _max: { dim: true } });
    for (const d of dims) if (d._max.dim) out[media][modalityNames[d.modality] as Modality] = d._max.dim;
  }
  return out;
}

/**
 * A dataset's own widths per media type: a modality's file width for the media type using the most columns (or the
 * only one), and for a narrower media type the columns it uses (the file is zero-padded to the widest: docs/datasets.md).
 */
export function datasetWidths(ds: Dataset): Record<DatasetMediaType, FeatureDims> {
  const used = Object.fromEntries(MEDIA_TYPES.map((m) => [m, Object.fromEntries(featureLayout(ds, m).map((s) => [s.modality, s.dim]))])) as Record<DatasetMediaType, FeatureDims>;
  const out: Record<DatasetMediaType, FeatureDims> = { video: {}, image: {} };
  for (const modality of MODALITIES) {
    const f = ds.features[modality];
    if (!f) continue;
    const widest = Math.max(0, ...MEDIA_TYPES.map((m) => used[m][modality] ?? 0));
    for (const m of MEDIA_TYPES) {
      const u = used[m][modality];
      if (u) out[m][modality] = u === widest ? f.dim : u;
    }
  }
  return out;
}

/** The rules for a media type and modality from the sources above (models newest first). */
export function resolveRules(
  config: Config,
  models: readonly ModelWidths[],
  stored: Record<DatasetMediaType, FeatureDims>,
  fallback: { widths: Record<DatasetMediaType, FeatureDims>; origin: string },
): FeatureRules {
  const features = { video: {}, image: {} } as Record<DatasetMediaType, FeatureDims>;
  const origin = { video: {}, image: {} } as Record<DatasetMediaType, Partial<Record<Modality, string>>>;
  for (const media of MEDIA_TYPES) {
    if (config.featuresConfigured[media]) {
      features[media] = { ...config.features[media] };
      for (const m of MODALITIES) origin[media][m] = `set by ${SETTING[media]}`;
      continue;
    }
    const mediaType = mediaTypeOf(media);
    for (const m of MODALITIES) {
      const model = models.find((x) => x.mediaType === mediaType && x.widths[m]);
      const [dim, from] = model
        ? [model.widths[m], `the width active model ${model.version} was trained on`]
        : stored[media][m]
          ? [stored[media][m], `the width of the ${mediaType} posts stored`]
          : [fallback.widths[media][m], fallback.origin.replace('%s', SETTING[media])];
      if (dim) {
        features[media][m] = dim;
        origin[media][m] = from;
      }
    }
  }
  return { features, origin, limits: { tags: config.maxTags, tagLength: config.maxTagLength } };
}

export interface Fallback {
  widths: Record<DatasetMediaType, FeatureDims>;
  /** Where they come from, for messages; %s stands for the media type's setting. */
  origin: string;
}

/** The fallback of registerPost: the configuration's (default) widths. */
export const defaultFallback = (config: Config): Fallback => ({ widths: config.features, origin: "the paper's default; %s sets another" });

/** The rules `memer import` checks a dataset against (its own widths where nothing else names one). */
export async function importRules(prisma: Prisma, config: Config, ds: Dataset): Promise<FeatureRules> {
  if (config.featuresConfigured.video && config.featuresConfigured.image) return resolveRules(config, [], { video: {}, image: {} }, defaultFallback(config));
  return resolveRules(config, await activeModelWidths(prisma), await storedWidths(prisma), { widths: datasetWidths(ds), origin: 'the width in the dataset' });
}

/**
 * The serving process's rules: models from the registry's snapshot (always current), stored widths re-read on
 * `refresh()` (at start and when the server picks up other processes' writes). `current()` is synchronous and cached.
 */
export class FeatureWidths {
  private stored: Record<DatasetMediaType, FeatureDims> = { video: {}, image: {} };
  private storedVersion = 0;
  private loaded = false;
  private cache: { key: string; rules: FeatureRules } | null = null;

  constructor(
    private readonly prisma: Prisma,
    private readonly config: Config,
    private readonly registry: ModelRegistry,
    /** What stands where neither a model nor the stored posts name a width (default: defaultFallback). */
    private readonly fallback: Fallback = defaultFallback(config),
  ) {}

  /**
   * Re-reads the stored widths: at the first call for every media type whose widths are not configured, later only for
   * those without an active model (a model's widths come first, and the stored posts it was trained on agree with it).
   */
  async refresh(): Promise<void> {
    const models = new Set([...this.registry.current().memer.values()].map((m) => m.mediaType));
    const only = MEDIA_TYPES.filter((m) => !this.config.featuresConfigured[m] && (!this.loaded || !models.has(mediaTypeOf(m))));
    const read = only.length ? await storedWidths(this.prisma, only) : null;
    this.loaded = true;
    if (!read) return;
    const next = { ...this.stored };
    for (const m of only) next[m] = read[m];
    if (JSON.stringify(next) !== JSON.stringify(this.stored)) {
      this.stored = next;
      this.storedVersion++;
    }
  }

  current(): FeatureRules {
    const snap = this.registry.current();
    const key = `${snap.stamp}|${this.storedVersion}`;
    if (this.cache?.key === key) return this.cache.rules;
    const models = [...snap.memer.values()].sort((a, b) => b.versionKey - a.versionKey).map((m) => ({ version: m.version, mediaType: m.mediaType, widths: m.featureWidths }));
    const rules = resolveRules(this.config, models, this.stored, this.fallback);
    this.cache = { key, rules };
    return rules;
  }
}
