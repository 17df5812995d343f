/** Counts that describe a loaded dataset (`memer dataset info`). */
import { featurePresence } from './features.js';
import { formatIso } from './timestamps.js';
import { MEDIA_TYPES, MODALITIES, type Dataset, type MediaType } from './types.js';

export interface SignalInfo {
  rows: number;
  positives: number;
  negatives: number;
  users: number;
  items: number;
  /** Rows per media type of the item. */
  byMediaType: Record<MediaType, number>;
}

export interface ModalityInfo {
  dim: number;
  dtype: 'float32' | 'float16';
  /** Items whose row is not all zero (the missing-modality convention), per media type. */
  present: Record<MediaType, number>;
}

export interface DatasetInfo {
  name: string;
  items: number;
  users: number;
  interactions: number;
  mediaTypes: Record<MediaType, number>;
  tags: number;
  /** The 10 most used tags with their item counts. */
  topTags: { tag: string; items: number }[];
  itemsCreated: { first: string | null; last: string | null };
  interactionTimes: { first: string | null; last: string | null };
  signals: Record<string, SignalInfo>;
  modalities: Partial<Record<(typeof MODALITIES)[number], ModalityInfo>>;
}

const perMedia = (): Record<MediaType, number> => ({ video: 0, image: 0 });

function range(values: Float64Array): { first: string | null; last: string | null } {
  if (values.length === 0) return { first: null, last: null };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { first: formatIso(lo), last: formatIso(hi) };
}

export function datasetInfo(d: Dataset): DatasetInfo {
  const { items, interactions: x } = d;
  const mediaTypes = perMedia();
  for (const m of items.mediaType) mediaTypes[MEDIA_TYPES[m]]++;
  const tagItems = new Int32Array(items.tagNames.length);
  for (const t of items.tagIds) tagItems[t]++;
  const topTags = Array.from(tagItems, (n, t) => ({ tag: items.tagNames[t], items: n }))
    .sort((a, b) => b.items - a.items || a.tag.localeCompare(b.tag))
    .slice(0, 10);

  const signals: Record<string, SignalInfo> = {};
  d.signals.forEach((s, k) => {
    const users = new Uint8Array(d.userIds.length);
    const seenItems = new Uint8Array(items.ids.length);
    const info: SignalInfo = { rows: 0, positives: 0, negatives: 0, users: 0, items: 0, byMediaType: perMedia() };
    for (let i = 0; i < x.length; i++) {
      if (x.signal[i] !== k) continue;
      info.rows++;
      if (x.label[i]) info.positives++;
      else info.negatives++;
      if (!users[x.user[i]]) info.users++;
      users[x.user[i]] = 1;
      if (!seenItems[x.item[i]]) info.items++;
      seenItems[x.item[i]] = 1;
      info.byMediaType[MEDIA_TYPES[items.mediaType[x.item[i]]]]++;
    }
    signals[s] = info;
  });

  const modalities: DatasetInfo['modalities'] = {};
  for (const m of MODALITIES) {
    const f = d.features[m];
    if (!f) continue;
    const present = perMedia();
    featurePresence(f).forEach((p, i) => {
      if (p) present[MEDIA_TYPES[items.mediaType[i]]]++;
    });
    modalities[m] = { dim: f.dim, dtype: f.dtype, present };
  }
  return {
    name: d.name,
    items: items.ids.length,
    users: d.userIds.length,
    interactions: x.length,
    mediaTypes,
    tags: items.tagNames.length,
    topTags,
    itemsCreated: range(items.createdAt),
    interactionTimes: range(x.time),
    signals,
    modalities,
  };
}

/** Human-readable lines for the info. */
export function formatInfo(info: DatasetInfo): string {
  const lines = [
    `${info.name}: ${info.items} items (${info.mediaTypes.video} video, ${info.mediaTypes.image} image), ${info.users} users, ${info.interactions} interactions`,
    `items created ${info.itemsCreated.first ?? '-'} .. ${info.itemsCreated.last ?? '-'}; interactions ${info.interactionTimes.first ?? '-'} .. ${info.interactionTimes.last ?? '-'}`,
    `${info.tags} tags; top: ${info.topTags.map((t) => `${t.tag} (${t.items})`).join(', ') || '-'}`,
    '',
    `${'signal'.padEnd(14)} ${'rows'.padStart(11)} ${'positives'.padStart(11)} ${'negatives'.padStart(11)} ${'users'.padStart(9)} ${'items'.padStart(9)} ${'video'.padStart(11)} ${'image'.padStart(11)}`,
  ];
  for (const [s, v] of Object.entries(info.signals)) {
    lines.push(`${s.padEnd(14)} ${[v.rows, v.positives, v.negatives].map((n) => String(n).padStart(11)).join(' ')} ${String(v.users).padStart(9)} ${String(v.items).padStart(9)} ${String(v.byMediaType.video).padStart(11)} ${String(v.byMediaType.image).padStart(11)}`);
  }
  lines.push('');
  const mods = Object.entries(info.modalities);
  if (mods.length === 0) lines.push('features: none');
  for (const [m, v] of mods) lines.push(`features/${m}.npy: ${v.dim}-d ${v.dtype}, present for ${v.present.video} video and ${v.present.image} image items`);
  return lines.join('\n');
}
