/**
 * The database as a columnar Dataset (src/datasets/types.ts), the input of the training pipeline: items are posts in
 * key order, users in key order, interactions in time order. Features become one float16 matrix per modality whose
 * width is the widest configured dimension (visual: 2208 for images, 2048 for videos, the rest of a video row zero),
 * with all-zero rows for posts that lack the modality, the convention of dataset folders (docs/datasets.md).
 * Keys map back from dataset indices to database rows. `widths` records the stored width per media type and modality
 * (the models trained on the export record it, and registerPost checks uploads against it: feature-widths.ts).
 */
import type { Prisma } from '../../data/db.js';
import { bytesToHalves } from '../../lib/vectors.js';
import { floatsToHalves } from '../../lib/float16.js';
import type { FeatureDims } from '../../config/config.js';
import { type Dataset, type FeatureMatrix, type MediaType, type Modality } from '../../datasets/types.js';
import { modalityNames } from '../types.js';

export interface ExportedDataset {
  dataset: Dataset;
  postKeys: Int32Array;
  userKeys: Int32Array;
  signalKeys: Int32Array;
  /** The widest stored feature per media type and modality. */
  widths: Record<MediaType, FeatureDims>;
}

const PAGE = 50_000;

export async function exportDataset(prisma: Prisma, onProgress: (stage: string, done: number, total: number) => void = () => undefined): Promise<ExportedDataset> {
  const posts = await prisma.post.findMany({ orderBy: { id: 'asc' }, select: { id: true, externalId: true, createdAt: true, mediaType: true, text: true, tags: { select: { tag: true } } } });
  const users = await prisma.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, externalId: true } });
  const signals = await prisma.signal.findMany({ orderBy: { id: 'asc' } });
  const postIndex = new Map(posts.map((p, i) => [p.id, i]));
  const userIndex = new Map(users.map((u, i) => [u.id, i]));
  const signalIndex = new Map(signals.map((s, i) => [s.id, i]));

  const tagNames: string[] = [];
  const tagId = new Map<string, number>();
  const tagOffsets = new Int32Array(posts.length + 1);
  const tagIds: number[] = [];
  posts.forEach((p, i) => {
    for (const { tag } of p.tags) {
      let t = tagId.get(tag);
      if (t === undefined) tagId.set(tag, (t = tagNames.push(tag) - 1));
      tagIds.push(t);
    }
    tagOffsets[i + 1] = tagIds.length;
  });

  const total = await prisma.interaction.count();
  const user = new Int32Array(total);
  const item = new Int32Array(total);
  const signal = new Uint8Array(total);
  const label = new Uint8Array(total);
  const time = new Float64Array(total);
  let n = 0;
  let cursor: { timestamp: Date; id: number } | null = null;
  for (;;) {
    const c: { timestamp: Date; id: number } | null = cursor;
    const rows: { id: number; userId: number; postId: number; signalId: number; label: number; timestamp: Date }[] = await prisma.interaction.findMany({
      where: c ? { OR: [{ timestamp: { gt: c.timestamp } }, { timestamp: c.timestamp, id: { gt: c.id } }] } : {},
      orderBy: [{ timestamp: 'asc' }, { id: 'asc' }],
      take: PAGE,
      select: { id: true, userId: true, postId: true, signalId: true, label: true, timestamp: true },
    });
    for (const r of rows) {
      if (n >= total) break;
      user[n] = userIndex.get(r.userId)!;
      item[n] = postIndex.get(r.postId)!;
      signal[n] = signalIndex.get(r.signalId)!;
      label[n] = r.label;
      time[n] = r.timestamp.getTime() / 1000;
      n++;
    }
    onProgress('exporting interactions', n, total);
    if (rows.length < PAGE) break;
    cursor = { timestamp: rows[rows.length - 1].timestamp, id: rows[rows.length - 1].id };
  }

  const mediaOf = Uint8Array.from(posts, (p) => (p.mediaType === 'VIDEO' ? 0 : 1));
  const widths: Record<MediaType, FeatureDims> = { video: {}, image: {} };
  const features = await exportFeatures(prisma, postIndex, posts.length, (row, modality, dim) => {
    const w = widths[mediaOf[row] === 0 ? 'video' : 'image'];
    w[modality] = Math.max(w[modality] ?? 0, dim);
  });
  return {
    dataset: {
      name: 'database',
      items: {
        ids: posts.map((p) => p.externalId),
        createdAt: Float64Array.from(posts, (p) => p.createdAt.getTime() / 1000),
        mediaType: mediaOf,
        tagNames,
        tagOffsets,
        tagIds: Int32Array.from(tagIds),
        text: posts.map((p) => p.text),
      },
      userIds: users.map((u) => u.externalId),
      signals: signals.map((s) => s.name),
      interactions: { length: n, user: user.subarray(0, n), item: item.subarray(0, n), signal: signal.subarray(0, n), label: label.subarray(0, n), time: time.subarray(0, n) },
      features,
    },
    postKeys: Int32Array.from(posts, (p) => p.id),
    userKeys: Int32Array.from(users, (u) => u.id),
    signalKeys: Int32Array.from(signals, (s) => s.id),
    widths,
  };
}

async function exportFeatures(
  prisma: Prisma,
  postIndex: Map<number, number>,
  rows: number,
  onRow: (row: number, modality: Modality, dim: number) => void,
): Promise<Partial<Record<Modality, FeatureMatrix>>> {
  const dims = await prisma.postFeature.groupBy({ by: ['modality'], _max: { dim: true } });
  const out: Partial<Record<Modality, FeatureMatrix>> = {};
  for (const { modality, _max } of dims) {
    const dim = _max.dim ?? 0;
    const data = new Uint16Array(rows * dim);
    let after = 0;
    for (;;) {
      const page = await prisma.postFeature.findMany({ where: { modality, postId: { gt: after } }, orderBy: { postId: 'asc' }, take: 5000 });
      for (const f of page) {
        const halves = f.dtype === 'FLOAT16' ? bytesToHalves(f.data) : floatsToHalves(new Float32Array(f.data.buffer.slice(f.data.byteOffset, f.data.byteOffset + f.data.byteLength)), new Uint16Array(f.dim));
        const row = postIndex.get(f.postId)!;
        data.set(halves, row * dim);
        onRow(row, modalityNames[modality] as Modality, f.dim);
      }
      if (page.length < 5000) break;
      after = page[page.length - 1].postId;
    }
    out[modalityNames[modality] as Modality] = { rows, dim, dtype: 'float16', data };
  }
  return out;
}
