/**
 * The serving side of the model registry: which MEMER version is active for each signal and media type, loaded once
 * through the ONNX runtime. Requests take a snapshot (`current()`) and finish on the versions it holds, even if an
 * activation swaps the snapshot meanwhile; retired versions are unloaded after a grace period. A version that fails
 * to load is reported and never replaces the one serving. `sync()` re-reads the active set from the database, so
 * activations made by `memer train --activate` or another replica reach this process (the server polls it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureDims } from '../../config/config.js';
import type { Prisma } from '../../data/db.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import { MemerEnsemble } from '../../ml/memer/ensemble.js';
import { MemerEmbedder } from '../../ml/memer/inference.js';
import type { OnnxRuntime } from '../../ml/onnx/runtime.js';
import { hashedTextOf, modelFeatureWidths } from '../posts/feature-widths.js';
import { readMetrics, type MemerVersionMetrics } from './model-metrics.js';
import type { MediaType } from '../types.js';

export interface ActiveModel {
  version: string;
  versionKey: number;
  signal: string;
  signalKey: number;
  mediaType: MediaType;
  embedder: MemerEmbedder;
  /** freq = log(1 + views) / log(1 + freqScale), clipped to [0, 1], as in training (recorded in the version's metrics). */
  freqScale: number;
  /** The feature widths it was trained on, per modality (registerPost checks uploads against them: feature-widths.ts). */
  featureWidths: FeatureDims;
  /**
   * D when trained with `memer train --hash-text D`: its text input is the D-wide hashed feature of the post's text
   * and tags (embeddings/hashed-text.ts), computed at serving time as in training; null: the stored text feature.
   */
  hashedText: number | null;
  /** The ONNX file. */
  artefact: string;
}

/** Active models of one media type with the same inputs, merged into one session: an upload group runs it once. */
export interface Ensemble {
  models: readonly ActiveModel[];
  runner: MemerEnsemble;
}

export interface Snapshot {
  /** Active MEMER models by `${signal}:${mediaType}`. */
  readonly memer: ReadonlyMap<string, ActiveModel>;
  /** Identifies the active set (version keys), to detect changes cheaply. */
  readonly stamp: string;
  /** Merged sessions over `memer`'s models (a model in none runs on its own). */
  readonly ensembles: readonly Ensemble[];
}

export const slot = (signal: string, mediaType: MediaType) => `${signal}:${mediaType}`;

const ensembleKey = (models: readonly ActiveModel[]) => `ensemble:${models.map((m) => m.versionKey).join('+')}`;

/** How long a retired version stays loaded for requests that started on it. */
const GRACE_MS = 30_000;

export class ModelRegistry {
  private snap: Snapshot = { memer: new Map(), stamp: '', ensembles: [] };
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly prisma: Prisma,
    private readonly runtime: OnnxRuntime,
    private readonly modelDir: string,
    private readonly logger: Logger,
  ) {}

  current(): Snapshot {
    return this.snap;
  }

  /** Loads a version's model (once); MODEL_UNAVAILABLE if the artefact is missing or broken. */
  private async load(row: { id: number; version: string; artefact: string }): Promise<MemerEmbedder> {
    try {
      return await MemerEmbedder.load(this.runtime, row.version, join(this.modelDir, row.artefact));
    } catch (err) {
      throw new AppError(ErrorCode.MODEL_UNAVAILABLE, `model ${row.version} cannot be loaded: ${(err as Error).message}`, { version: row.version });
    }
  }

  /** A MEMER version row as an ActiveModel of `signal` (its model loaded once, as `load`). */
  async activeModel(row: { id: number; version: string; artefact: string; metrics: string; mediaType: MediaType }, signal: { key: number; name: string }): Promise<ActiveModel> {
    const embedder = await this.load(row);
    const metrics = readMetrics<MemerVersionMetrics>(row.metrics);
    const freqScale = Number(metrics.freqScale ?? 0);
    const featureWidths = modelFeatureWidths(metrics, embedder.info.modalities);
    const hashedText = hashedTextOf(metrics);
    return { version: row.version, versionKey: row.id, signal: signal.name, signalKey: signal.key, mediaType: row.mediaType, embedder, freqScale, featureWidths, hashedText, artefact: join(this.modelDir, row.artefact) };
  }

  /** Brings the snapshot in line with the database's active MEMER versions. Concurrent calls share one run. */
  sync(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const rows = await this.prisma.modelVersion.findMany({
      where: { kind: 'MEMER', active: true, status: 'READY' },
      include: { signal: { select: { name: true } } },
      orderBy: { id: 'asc' },
    });
    const stamp = rows.map((r) => r.id).join(',');
    if (stamp === this.snap.stamp) return;
    const next = new Map<string, ActiveModel>();
    for (const row of rows) {
      if (!row.signal || !row.mediaType || !row.signalId) continue;
      const key = slot(row.signal.name, row.mediaType);
      try {
        next.set(key, await this.activeModel({ ...row, mediaType: row.mediaType }, { key: row.signalId, name: row.signal.name }));
      } catch (err) {
        const previous = this.snap.memer.get(key);
        this.logger.error('model version failed to load; the previous one keeps serving', { version: row.version, error: (err as Error).message, serving: previous?.version ?? null });
        if (previous) next.set(key, previous);
      }
    }
    const retired = [...this.snap.memer.values()].filter((m) => ![...next.values()].some((n) => n.versionKey === m.versionKey));
    const ensembles = await this.ensembles([...next.values()]);
    // By key: an unchanged group gets a new wrapper around the same cached session, which must stay loaded.
    const kept = new Set(ensembles.map((e) => ensembleKey(e.models)));
    const unmerged = this.snap.ensembles.filter((e) => !kept.has(ensembleKey(e.models)));
    this.snap = { memer: next, stamp, ensembles };
    if (retired.length) this.logger.info('model versions swapped', { active: [...next.values()].map((m) => m.version), retired: retired.map((m) => m.version) });
    for (const m of retired) setTimeout(() => void this.runtime.unload(m.version), GRACE_MS).unref();
    for (const e of unmerged) setTimeout(() => void this.runtime.unload(ensembleKey(e.models)), GRACE_MS).unref();
  }

  /**
   * Merged sessions for the models that share a media type and inputs (loaded once per set of versions). A merge that
   * fails only costs speed: those models run one by one, and the failure is logged.
   */
  private async ensembles(models: readonly ActiveModel[]): Promise<Ensemble[]> {
    const groups: ActiveModel[][] = [];
    for (const m of models) {
      // Members read the same inputs: a hashed text input is not a stored one, even at the same width.
      const group = groups.find((g) => g[0].mediaType === m.mediaType && g[0].hashedText === m.hashedText && MemerEnsemble.compatible(g[0].embedder, m.embedder));
      if (group) group.push(m);
      else groups.push([m]);
    }
    const out: Ensemble[] = [];
    for (const group of groups.filter((g) => g.length > 1)) {
      try {
        // The files are read only for a group the runtime does not hold merged yet (not on every change of the set).
        const bytes = () => Promise.all(group.map(async (m) => new Uint8Array(await readFile(m.artefact))));
        out.push({ models: group, runner: await MemerEnsemble.load(this.runtime, ensembleKey(group), group.map((m) => m.embedder), bytes) });
      } catch (err) {
        this.logger.warn('models could not be merged into one session; they run one by one', { versions: group.map((m) => m.version), error: (err as Error).message });
      }
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.runtime.dispose();
  }
}
