/** A dataset restricted to some items: their rows, feature rows and interactions, with indices renumbered. */
import { buildItemTable, itemTags } from './items.js';
import { MEDIA_TYPES, type Dataset, type FeatureMatrix, type Modality } from './types.js';

export function selectItems(ds: Dataset, keep: Uint8Array): Dataset {
  const n = ds.items.ids.length;
  const newIndex = new Int32Array(n).fill(-1);
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) newIndex[i] = kept.push(i) - 1;
  const items = buildItemTable(
    kept.map((i) => ({ id: ds.items.ids[i], createdAt: ds.items.createdAt[i], mediaType: MEDIA_TYPES[ds.items.mediaType[i]], tags: itemTags(ds.items, i), text: ds.items.text[i] })),
  );
  const src = ds.interactions;
  const rows: number[] = [];
  for (let r = 0; r < src.length; r++) if (keep[src.item[r]]) rows.push(r);
  const pick = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (len: number) => T) => {
    const out = make(rows.length);
    rows.forEach((r, k) => (out[k] = a[r]));
    return out;
  };
  const item = Int32Array.from(rows, (r) => newIndex[src.item[r]]);
  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  for (const [m, f] of Object.entries(ds.features) as [Modality, FeatureMatrix][]) {
    const data = f.data instanceof Float32Array ? new Float32Array(kept.length * f.dim) : new Uint16Array(kept.length * f.dim);
    kept.forEach((i, k) => data.set(f.data.subarray(i * f.dim, (i + 1) * f.dim), k * f.dim));
    features[m] = { rows: kept.length, dim: f.dim, dtype: f.dtype, data };
  }
  return {
    name: ds.name,
    items,
    userIds: ds.userIds,
    signals: ds.signals,
    interactions: {
      length: rows.length,
      user: pick(src.user, (l) => new Int32Array(l)),
      item,
      signal: pick(src.signal, (l) => new Uint8Array(l)),
      label: pick(src.label, (l) => new Uint8Array(l)),
      time: pick(src.time, (l) => new Float64Array(l)),
    },
    features,
  };
}
