/**
 * Online experiments (docs/experiments.md): experiments as data (create, start, stop, list), deterministic
 * assignment of users to arms, the exposure log of what recommendations served, the impressions clients report, and
 * the report.
 *
 * Serving reads a process-wide snapshot of the running experiments, one per signal: loaded on first use, replaced by
 * this process's own changes at once and by other processes' on the server's refresh (Services.refresh, every
 * MEMER_REFRESH_MS), so `assign` costs a map lookup and one hash. The database holds the rule "at most one running
 * experiment per signal" itself (a unique column set only while running), so two replicas starting experiments at
 * once cannot both succeed.
 */
import type { Db } from '../../data/db.js';
import { retryTransaction } from '../../data/retry.js';
import { AppError, badInput, conflict, ErrorCode, notFound } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Catalog } from '../catalog.js';
import type { EmbeddingSource } from '../types.js';
import { armOf } from './assignment.js';
import { DEFAULT_EXPOSURE_OPTIONS, ExposureLog, type ExposureLogOptions } from './exposure-log.js';
import type { ArmRecord, ArmSource, Assignment, ExperimentRecord, ExperimentStatus } from './experiment.types.js';
import { normalizeExperiment, validateExperimentName, type ExperimentInput, type NormalizedExperiment } from './experiment.validation.js';
import { writeExposures } from './exposure-write.js';
import { collectOutcomes } from './outcomes.js';
import { buildReport, type ExperimentReport } from './report.js';
import { normalizeImpressions, type ImpressionInput } from './impression.validation.js';

/** The user ids recordInteractions accepts (posts/post.validation.ts): others are never in an experiment. */
const ID = /^[\x21-\x7e]{1,128}$/;
const INCLUDE = { arms: { orderBy: { ordinal: 'asc' as const } }, signal: { select: { name: true } } };

type ExperimentRow = {
  id: number;
  name: string;
  signalId: number;
  status: ExperimentStatus;
  attributionWindowS: number;
  description: string;
  createdAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
  droppedImpressions: number;
  arms: { ordinal: number; name: string; share: number; source: EmbeddingSource }[];
  signal: { name: string };
};

function toRecord(row: ExperimentRow): ExperimentRecord {
  return {
    key: row.id,
    name: row.name,
    signal: { key: row.signalId, name: row.signal.name },
    status: row.status,
    arms: row.arms.map((a): ArmRecord => ({ ordinal: a.ordinal, name: a.name, share: a.share, source: a.source as ArmSource })),
    attributionWindowS: row.attributionWindowS,
    description: row.description,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    stoppedAt: row.stoppedAt,
    droppedImpressions: row.droppedImpressions,
  };
}

/** Whether a stored experiment has the definition a create asks for (a retried create is then a no-op). */
function sameDefinition(e: ExperimentRecord, n: NormalizedExperiment): boolean {
  return (
    e.signal.name === n.signal &&
    e.attributionWindowS === n.attributionWindowS &&
    e.description === n.description &&
    e.arms.length === n.arms.length &&
    e.arms.every((a, i) => a.name === n.arms[i].name && a.share === n.arms[i].share && a.source === n.arms[i].source)
  );
}

export interface ExperimentsOptions {
  exposure?: Partial<ExposureLogOptions>;
  /** Called with the running experiments whenever this process's snapshot of them changes. */
  onChange?: (running: readonly ExperimentRecord[]) => void;
}

/** A served result as the exposure log records it. */
export interface ServedItem {
  postKey: number;
  source: EmbeddingSource | null;
}

export class ExperimentsService {
  readonly exposures: ExposureLog;
  /** The running experiments by signal key. */
  private running = new Map<number, ExperimentRecord>();
  /** The first load, which serving waits for; later reloads replace the snapshot when they succeed. */
  private loaded: Promise<void> | null = null;
  /** Bumped by every reload: a slower, older reload never overwrites a newer snapshot. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly catalog: Catalog,
    private readonly logger: Logger,
    private readonly maxBatch: number,
    private readonly options: ExperimentsOptions = {},
  ) {
    this.exposures = new ExposureLog(
      {
        write: (rows) => writeExposures(db, rows),
        dropped: async (counts) => {
          for (const [id, n] of counts) await db.prisma.experiment.updateMany({ where: { id }, data: { droppedImpressions: { increment: n } } });
        },
      },
      logger,
      { ...DEFAULT_EXPOSURE_OPTIONS, ...options.exposure },
    );
  }

  // ---- definition ----

  async create(input: ExperimentInput): Promise<ExperimentRecord> {
    const n = normalizeExperiment(input);
    const signal = (await this.catalog.signals()).get(n.signal);
    if (!signal) throw badInput(`input.signal: unknown signal ${JSON.stringify(n.signal)}`, { path: 'input.signal' });
    const created = await retryTransaction(() =>
      this.db.prisma.$transaction(async (tx) => {
        const existing = await tx.experiment.findUnique({ where: { name: n.name }, include: INCLUDE });
        if (existing) {
          const record = toRecord(existing);
          if (sameDefinition(record, n)) return record;
          throw conflict(`an experiment named ${JSON.stringify(n.name)} exists with another definition; choose another name`, { path: 'input.name' });
        }
        if (n.start) await this.checkNoneRunning(tx, signal.key, n.name);
        const now = new Date();
        const row = await tx.experiment.create({
          data: {
            name: n.name,
            signalId: signal.key,
            status: n.start ? 'RUNNING' : 'DRAFT',
            runningSignalId: n.start ? signal.key : null,
            createdAt: now,
            startedAt: n.start ? now : null,
            attributionWindowS: n.attributionWindowS,
            description: n.description,
            arms: { create: n.arms.map((a) => ({ ordinal: a.ordinal, name: a.name, share: a.share, source: a.source })) },
          },
          include: INCLUDE,
        });
        return toRecord(row);
      }),
    );
    await this.reload();
    return created;
  }

  /** DRAFT -> RUNNING; a running experiment is returned as it is. */
  async start(name: string): Promise<ExperimentRecord> {
    const started = await retryTransaction(() =>
      this.db.prisma.$transaction(async (tx) => {
        const e = await this.mustFind(tx, name);
        if (e.status === 'RUNNING') return e;
        if (e.status === 'STOPPED') throw conflict(`experiment ${JSON.stringify(name)} was stopped; a stopped experiment does not restart (create a new one)`, { argument: 'name' });
        await this.checkNoneRunning(tx, e.signal.key, name);
        return toRecord(await tx.experiment.update({ where: { id: e.key }, data: { status: 'RUNNING', runningSignalId: e.signal.key, startedAt: new Date() }, include: INCLUDE }));
      }),
    );
    await this.reload();
    return started;
  }

  /** RUNNING or DRAFT -> STOPPED; a stopped experiment is returned as it is. Its report stays available. */
  async stop(name: string): Promise<ExperimentRecord> {
    const stopped = await retryTransaction(() =>
      this.db.prisma.$transaction(async (tx) => {
        const e = await this.mustFind(tx, name);
        if (e.status === 'STOPPED') return e;
        return toRecord(await tx.experiment.update({ where: { id: e.key }, data: { status: 'STOPPED', runningSignalId: null, stoppedAt: new Date() }, include: INCLUDE }));
      }),
    );
    await this.reload();
    // What was served until now belongs in its report.
    await this.exposures.flush();
    return stopped;
  }

  /** Experiments, newest first, optionally by status and signal. */
  async list(filter: { status?: ExperimentStatus | null; signal?: string | null } = {}): Promise<ExperimentRecord[]> {
    const rows = await this.db.prisma.experiment.findMany({
      where: { ...(filter.status ? { status: filter.status } : {}), ...(filter.signal ? { signal: { name: filter.signal } } : {}) },
      orderBy: { id: 'desc' },
      include: INCLUDE,
    });
    return rows.map(toRecord);
  }

  async get(name: string): Promise<ExperimentRecord | null> {
    const row = await this.db.prisma.experiment.findUnique({ where: { name }, include: INCLUDE });
    return row ? toRecord(row) : null;
  }

  // ---- serving ----

  /** The user's arm in the experiment running for the signal, or null (none running, or the user is outside it). */
  async assign(signalKey: number, userId: string): Promise<Assignment | null> {
    await this.firstLoad();
    const e = this.running.get(signalKey);
    if (!e || !ID.test(userId)) return null;
    const arm = armOf(e.name, e.arms, userId);
    return arm ? { experimentKey: e.key, experiment: e.name, signal: e.signal.name, arm } : null;
  }

  /** The user's arms in every running experiment that includes them, by signal id. */
  async assignments(userId: string): Promise<Assignment[]> {
    await this.firstLoad();
    const out: Assignment[] = [];
    for (const e of [...this.running.values()].sort((a, b) => a.signal.key - b.signal.key)) {
      const arm = armOf(e.name, e.arms, userId);
      if (arm) out.push({ experimentKey: e.key, experiment: e.name, signal: e.signal.name, arm });
    }
    return out;
  }

  /** The running experiments as this process knows them. */
  runningExperiments(): ExperimentRecord[] {
    return [...this.running.values()];
  }

  /** Queues the impressions of one recommendations response (no I/O: the exposure log writes them later). */
  served(assignment: Assignment, userId: string, items: readonly ServedItem[], servedAt = new Date()): void {
    if (items.length === 0) return;
    this.exposures.add({
      experimentKey: assignment.experimentKey,
      userId,
      arm: assignment.arm.ordinal,
      origin: 'SERVED',
      servedAt,
      position: 0,
      postKeys: items.map((i) => i.postKey),
      sources: items.map((i) => i.source),
    });
  }

  /**
   * Impressions the client actually displayed. Written before it returns; for each user they replace the impressions
   * the service logged (the report counts a user's CLIENT impressions when there are any). Any bad element fails the
   * whole batch with its index.
   */
  async recordImpressions(inputs: ImpressionInput[], now = new Date()): Promise<{ recorded: number }> {
    if (inputs.length === 0) return { recorded: 0 };
    if (inputs.length > this.maxBatch) throw badInput(`at most ${this.maxBatch} impressions per call, got ${inputs.length}`, { path: 'inputs' });
    const names = [...new Set(inputs.map((i) => i.experiment))];
    const experiments = new Map((await this.db.prisma.experiment.findMany({ where: { name: { in: names } }, include: INCLUDE })).map((r) => [r.name, toRecord(r)]));
    const postIds = [...new Set(inputs.map((i) => i.postId))];
    const posts = new Map((await this.db.prisma.post.findMany({ where: { externalId: { in: postIds } }, select: { id: true, externalId: true } })).map((p) => [p.externalId, p.id]));
    const rows = normalizeImpressions(inputs, experiments, posts, now);
    await writeExposures(this.db, rows);
    return { recorded: rows.length };
  }

  /** Re-reads the running experiments (the server's refresh); on failure the previous snapshot keeps serving. */
  async refresh(): Promise<void> {
    await this.reload();
    this.loaded ??= Promise.resolve();
  }

  // ---- outcomes ----

  /** The report of an experiment, running or stopped; `attributionWindowSeconds` overrides the experiment's window. */
  async report(name: string, options: { attributionWindowSeconds?: number | null } = {}): Promise<ExperimentReport> {
    validateExperimentName(name, 'name');
    const window = options.attributionWindowSeconds;
    if (window != null && (!Number.isInteger(window) || window < 1)) throw badInput(`attributionWindowSeconds must be a positive integer, got ${window}`, { argument: 'attributionWindowSeconds' });
    // This process's queued impressions first: a report right after serving counts them.
    await this.exposures.flush();
    const e = await this.get(name);
    if (!e) throw notFound(`no experiment named ${JSON.stringify(name)}`, { argument: 'name' });
    const signals = [...(await this.catalog.signals()).values()].sort((a, b) => a.key - b.key).map((s) => ({ key: s.key, name: s.name, mediaTypes: s.mediaTypes }));
    const windowS = window ?? e.attributionWindowS;
    return buildReport(e, await collectOutcomes(this.db.prisma, e.key, windowS, signals), windowS);
  }

  /** Drains the exposure log (graceful shutdown). */
  close(): Promise<void> {
    return this.exposures.close();
  }

  // ---- internals ----

  private async mustFind(tx: Pick<Db['prisma'], 'experiment'>, name: string): Promise<ExperimentRecord> {
    validateExperimentName(name, 'name');
    const row = await tx.experiment.findUnique({ where: { name }, include: INCLUDE });
    if (!row) throw notFound(`no experiment named ${JSON.stringify(name)}`, { argument: 'name' });
    return toRecord(row);
  }

  private async checkNoneRunning(tx: Pick<Db['prisma'], 'experiment'>, signalKey: number, name: string): Promise<void> {
    const other = await tx.experiment.findFirst({ where: { runningSignalId: signalKey }, select: { name: true, signal: { select: { name: true } } } });
    if (other && other.name !== name) {
      throw conflict(`experiment ${JSON.stringify(other.name)} is already running for signal ${other.signal.name}; stop it first (at most one running experiment per signal)`, { running: other.name, signal: other.signal.name });
    }
  }

  private firstLoad(): Promise<void> {
    if (!this.loaded) {
      const load = this.reload();
      this.loaded = load;
      load.catch(() => {
        if (this.loaded === load) this.loaded = null; // the next request tries again
      });
    }
    return this.loaded;
  }

  private async reload(): Promise<void> {
    const generation = ++this.generation;
    let rows;
    try {
      rows = await this.db.prisma.experiment.findMany({ where: { status: 'RUNNING' }, include: INCLUDE });
    } catch (err) {
      throw err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL_SERVER_ERROR, `could not read the running experiments: ${(err as Error).message}`);
    }
    if (generation !== this.generation) return;
    const next = new Map(rows.map((r) => [r.signalId, toRecord(r)]));
    const changed = next.size !== this.running.size || [...next].some(([k, e]) => this.running.get(k)?.key !== e.key);
    this.running = next;
    if (changed) {
      this.logger.info('running experiments', { experiments: [...next.values()].map((e) => `${e.name} (${e.signal.name})`) });
      this.options.onChange?.([...next.values()]);
    }
  }
}
