/**
 * The serving side of the model registry: which MEMER version is active for each signal and media type, loaded once
 * through the ONNX runtime. Requests take a snapshot (`current()`) and finish on the versions it holds, even if an
 * activation swaps the snapshot meanwhile; retired versions are unloaded after a grace period. A version that fails
 * to load is reported and never replaces the one serving. `sync()` re-reads the active set from the database, so
 * activations made by `memer train --activate` or another replica reach this process (the server polls it).
 */
import { join } from 'node:path';
import type { Prisma } from '../../data/db.js';
import { AppError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import { MemerEmbedder } from '../../ml/memer/inference.js';
import type { OnnxRuntime } from '../../ml/onnx/runtime.js';
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
}

export interface Snapshot {
  /** Active MEMER models by `${signal}:${mediaType}`. */
  readonly memer: ReadonlyMap<string, ActiveModel>;
  /** Identifies the active set (version keys), to detect changes cheaply. */
  readonly stamp: string;
}

export const slot = (signal: string, mediaType: MediaType) => `${signal}:${mediaType}`;

/** How long a retired version stays loaded for requests that started on it. */
const GRACE_MS = 30_000;

export class ModelRegistry {
  private snap: Snapshot = { memer: new Map(), stamp: '' };
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
  async load(row: { id: number; version: string; artefact: string }): Promise<MemerEmbedder> {
    try {
      return await MemerEmbedder.load(this.runtime, row.version, join(this.modelDir, row.artefact));
    } catch (err) {
      throw new AppError(ErrorCode.MODEL_UNAVAILABLE, `model ${row.version} cannot be loaded: ${(err as Error).message}`, { version: row.version });
    }
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
        const embedder = await this.load(row);
        const freqScale = Number((JSON.parse(row.metrics) as { freqScale?: number }).freqScale ?? 0);
        next.set(key, { version: row.version, versionKey: row.id, signal: row.signal.name, signalKey: row.signalId, mediaType: row.mediaType, embedder, freqScale });
      } catch (err) {
        const previous = this.snap.memer.get(key);
        this.logger.error('model version failed to load; the previous one keeps serving', { version: row.version, error: (err as Error).message, serving: previous?.version ?? null });
        if (previous) next.set(key, previous);
      }
    }
    const retired = [...this.snap.memer.values()].filter((m) => ![...next.values()].some((n) => n.versionKey === m.versionKey));
    this.snap = { memer: next, stamp };
    if (retired.length) this.logger.info('model versions swapped', { active: [...next.values()].map((m) => m.version), retired: retired.map((m) => m.version) });
    for (const m of retired) setTimeout(() => void this.runtime.unload(m.version), GRACE_MS).unref();
  }

  async dispose(): Promise<void> {
    await this.runtime.dispose();
  }
}
