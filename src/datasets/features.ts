/**
 * features/<modality>.npy: one row per items.csv line, in the same order.
 *
 * Missing modality convention: an item that lacks a modality (an image has no audio) has an all-zero row in that
 * modality's file. Extractor outputs are never exactly all zero in practice, so `featurePresence` recovers the mask.
 * Rows of different widths share one file by zero-padding on the right (e.g. visual: video 2048-d in columns 0..2047,
 * image 2208-d in 0..2207 of a 2208-wide matrix); the used width per media type is the consumer's knowledge
 * (docs/datasets.md, and simulation/config.json for simulated data).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from './errors.js';
import { halfTable } from '../lib/float16.js';
import { readNpy, writeNpy } from './npy.js';
import { MODALITIES, type FeatureMatrix, type Modality } from './types.js';

/** The dtype of a feature file when the caller leaves it open: float16 once float32 would pass 256 MiB. */
export function autoFeatureDtype(rows: number, width: number): 'float32' | 'float16' {
  return rows * width * 4 > 256 * 2 ** 20 ? 'float16' : 'float32';
}

export function featurePath(dir: string, modality: Modality): string {
  return join(dir, 'features', `${modality}.npy`);
}

/** Loads the modalities present under dir/features (all by default); each must have exactly `rows` rows. */
export async function readFeatures(dir: string, rows: number, only: readonly Modality[] = MODALITIES): Promise<Partial<Record<Modality, FeatureMatrix>>> {
  const out: Partial<Record<Modality, FeatureMatrix>> = {};
  for (const modality of only) {
    const path = featurePath(dir, modality);
    if (!existsSync(path)) continue;
    const arr = await readNpy(path);
    if (arr.shape.length !== 2) throw new DatasetError(path, 0, `expected a 2-D matrix (items x dim), got shape (${arr.shape.join(', ')})`);
    if (arr.shape[0] !== rows) throw new DatasetError(path, 0, `has ${arr.shape[0]} rows but items.csv has ${rows} items (one row per item, same order)`);
    out[modality] = { rows, dim: arr.shape[1], dtype: arr.dtype, data: arr.data };
  }
  return out;
}

export function writeFeature(dir: string, modality: Modality, m: FeatureMatrix): void {
  writeNpy(featurePath(dir, modality), { dtype: m.dtype, shape: [m.rows, m.dim], data: m.data });
}

/** Row i as float32 (float16 widened), into `out` when given. */
export function featureRow(m: FeatureMatrix, i: number, out: Float32Array = new Float32Array(m.dim)): Float32Array {
  const base = i * m.dim;
  if (m.data instanceof Float32Array) out.set(m.data.subarray(base, base + m.dim));
  else {
    const t = halfTable();
    for (let k = 0; k < m.dim; k++) out[k] = t[m.data[base + k]];
  }
  return out;
}

/** 1 where item i has this modality (some non-zero value in its row), 0 where the row is all zero (missing). */
export function featurePresence(m: FeatureMatrix): Uint8Array {
  const present = new Uint8Array(m.rows);
  const d = m.data;
  const half = d instanceof Uint16Array;
  for (let i = 0; i < m.rows; i++) {
    const base = i * m.dim;
    for (let k = 0; k < m.dim; k++) {
      const v = d[base + k];
      // +0 and -0 (half bits 0x0000 / 0x8000) both count as zero.
      if (half ? (v & 0x7fff) !== 0 : v !== 0) {
        present[i] = 1;
        break;
      }
    }
  }
  return present;
}
