/**
 * Activating a training run for a signal swaps everything served for it in one transaction: the MATURE post and user
 * embeddings of the run's FFM, the maturity thresholds, the active model versions, and the MEMER embeddings of every
 * post, recomputed with the run's MEMER models (a new backbone means a new embedding space, so predictions of the
 * previous models would no longer be comparable). The new models are loaded before anything is written: a version
 * that fails to load leaves the previous one serving (MODEL_UNAVAILABLE). Servers pick the change up on their next
 * refresh (ModelRegistry.sync, PostIndex.refresh).
 */
import type { Tx } from '../../data/db.js';
import type { PostEmbeddingRow } from '../../data/embeddings.js';
import { conflict, notFound } from '../../errors.js';
import { MemerService } from '../embeddings/memer.service.js';
import { readMetrics, type MemerVersionMetrics } from '../models/model-metrics.js';
import { slot, type ActiveModel, type Snapshot } from '../models/registry.js';
import type { Services } from '../services.js';
import type { MediaType } from '../types.js';
import { readBackbone } from './artefacts.js';
import { retryTransaction } from '../../data/retry.js';

export interface ActivationResult {
  signal: string;
  ffm: string;
  memer: string[];
  maturePosts: number;
  users: number;
  memerPosts: number;
  /** Forced past a check (a MEMER model below its prior), one line each. */
  warnings: string[];
}

const CHUNK = 5000;

async function keysOf(tx: Tx, table: 'post' | 'user', ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const where = { externalId: { in: ids.slice(i, i + CHUNK) } };
    const rows = table === 'post' ? await tx.post.findMany({ where, select: { id: true, externalId: true } }) : await tx.user.findMany({ where, select: { id: true, externalId: true } });
    for (const r of rows) out.set(r.externalId, r.id);
  }
  return out;
}

/** MEMER versions whose validation GAUC is below their prior's (epoch 0): each with both numbers. */
export function belowPrior(rows: readonly { version: string; metrics: string }[]): { version: string; validationGauc: number; priorValidationGauc: number }[] {
  return rows.flatMap((r) => {
    const m = readMetrics<MemerVersionMetrics>(r.metrics);
    const v = m.validationGauc;
    const p = m.priorValidationGauc;
    return typeof v === 'number' && typeof p === 'number' && v < p ? [{ version: r.version, validationGauc: v, priorValidationGauc: p }] : [];
  });
}

/**
 * Activates model `version` (an FFM version, or a MEMER version: then its run's backbone) with its run's models. A
 * MEMER model that validated below its own prior (which it could have served instead) is refused with CONFLICT unless
 * `force`; with `force` the result lists it in `warnings`.
 */
export async function activateVersion(services: Services, version: string, options: { force?: boolean } = {}): Promise<ActivationResult> {
  const { prisma } = services.db;
  const row = await prisma.modelVersion.findUnique({ where: { version }, include: { signal: true } });
  if (!row || !row.signal) throw notFound(`no model version ${version}`, { version });
  const ffmVersion = row.kind === 'FFM' ? row.version : String(readMetrics<MemerVersionMetrics>(row.metrics).backbone ?? '');
  const ffm = await prisma.modelVersion.findUnique({ where: { version: ffmVersion } });
  if (!ffm) throw notFound(`model version ${version} has no backbone version ${ffmVersion}`, { version });
  const memerRows = (await prisma.modelVersion.findMany({ where: { kind: 'MEMER', signalId: row.signalId, status: 'READY' } })).filter(
    (m) => readMetrics<MemerVersionMetrics>(m.metrics).backbone === ffm.version,
  );
  const worse = belowPrior(memerRows);
  const warnings = worse.map((w) => `${w.version}: validation GAUC ${w.validationGauc.toFixed(4)} is below its prior's ${w.priorValidationGauc.toFixed(4)}`);
  if (worse.length && !options.force) {
    throw conflict(`${warnings.join('; ')}: retrain (e.g. --search N), or activate anyway with force`, { reason: 'BELOW_PRIOR', versions: worse });
  }
  // Load first: a broken artefact stops the activation before anything changes.
  const models = new Map<string, ActiveModel>();
  for (const m of memerRows) {
    models.set(slot(row.signal.name, m.mediaType!), await services.registry.activeModel({ ...m, mediaType: m.mediaType! }, { key: row.signal.id, name: row.signal.name }));
  }
  // One signal: one model per media type, nothing to merge.
  const snapshot: Snapshot = { memer: models, stamp: `activation:${ffm.id}`, ensembles: [] };
  const backbone = await readBackbone(services.config.modelDir, ffm.artefact);
  const signalKey = row.signal.id;
  const memer = new MemerService(services.db, services.registry, services.logger);
  const embeddings = services.db.stores.embeddings;

  // The MEMER predictions of every post are computed before the write transaction, so that it holds the database
  // (SQLite: its single writer) only for the writes. Posts registered meanwhile are predicted inside it.
  const media = [...new Set(memerRows.map((m) => m.mediaType!))];
  const predicted: PostEmbeddingRow[] = [];
  const done = new Set<number>();
  for (let after = 0; ; ) {
    const page = await prisma.post.findMany({ where: { id: { gt: after }, mediaType: { in: media } }, orderBy: { id: 'asc' }, take: 1000, select: { id: true, mediaType: true } });
    if (page.length === 0) break;
    predicted.push(...(await memer.predict(page.map((p) => ({ key: p.id, mediaType: p.mediaType })), snapshot)).rows);
    for (const p of page) done.add(p.id);
    after = page[page.length - 1].id;
  }

  const result = await retryTransaction(() => prisma.$transaction(
    async (t) => {
      const tx = t as Tx;
      // PostgreSQL: concurrent activations of one signal take turns on the signal's row, so the second one sees the
      // first one's active flags (SQLite has a single writer already).
      if (services.db.provider === 'postgresql') await tx.$queryRaw`SELECT "id" FROM "Signal" WHERE "id" = ${signalKey} FOR UPDATE`;
      const [postKeys, userKeys] = await Promise.all([keysOf(tx, 'post', backbone.postIds), keysOf(tx, 'user', backbone.userIds)]);
      const d = backbone.dim;
      await tx.postEmbedding.deleteMany({ where: { signalId: signalKey, source: { in: ['MATURE', 'MEMER'] } } });
      await embeddings.upsertPostEmbeddings(
        tx,
        backbone.postIds.flatMap((id, i) => (postKeys.has(id) ? [{ postKey: postKeys.get(id)!, signalKey, source: 'MATURE' as const, modelVersionKey: ffm.id, vector: backbone.posts.subarray(i * d, (i + 1) * d), views: 0 }] : [])),
      );
      await tx.userEmbedding.deleteMany({ where: { signalId: signalKey } });
      await embeddings.upsertUserEmbeddings(
        tx,
        backbone.userIds.flatMap((id, i) => (userKeys.has(id) ? [{ userKey: userKeys.get(id)!, signalKey, modelVersionKey: ffm.id, vector: backbone.users.subarray(i * d, (i + 1) * d) }] : [])),
      );
      for (const [m, t] of Object.entries(backbone.thresholds) as [MediaType, NonNullable<(typeof backbone.thresholds)[MediaType]>][]) {
        const data = { threshold: t.threshold, curve: JSON.stringify({ views: t.views, distance: t.distance, count: t.count, epsilon: t.epsilon, source: t.source }), computedAt: new Date() };
        await tx.maturityThreshold.upsert({ where: { signalId_mediaType: { signalId: signalKey, mediaType: m } }, create: { signalId: signalKey, mediaType: m, ...data }, update: data });
      }
      await tx.modelVersion.updateMany({ where: { signalId: signalKey, active: true }, data: { active: false } });
      await tx.modelVersion.updateMany({ where: { id: { in: [ffm.id, ...memerRows.map((m) => m.id)] } }, data: { active: true, activatedAt: new Date() } });
      // Every post of a media type with a model gets a MEMER prediction from the new models (mature ones too: the
      // prediction stays available as an explicit source, and AUTO prefers MATURE for them).
      const late = (await tx.post.findMany({ where: { mediaType: { in: media } }, select: { id: true, mediaType: true } })).filter((p) => !done.has(p.id));
      const rows = [...predicted, ...(await memer.predict(late.map((p) => ({ key: p.id, mediaType: p.mediaType })), snapshot, tx)).rows];
      await embeddings.upsertPostEmbeddings(tx, rows);
      return { maturePosts: postKeys.size, users: userKeys.size, memerPosts: new Set(rows.map((r) => r.postKey)).size };
    },
    { timeout: 30 * 60_000, maxWait: 60_000 },
  ));
  services.baselines.invalidate(signalKey);
  services.catalog.invalidate();
  await services.refresh();
  return { signal: row.signal.name, ffm: ffm.version, memer: memerRows.map((m) => m.version), ...result, warnings };
}
