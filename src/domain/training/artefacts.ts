/**
 * What a training run leaves in the model directory, per signal, so that activation can happen later (and on any
 * replica) from files alone:
 *   <run>/<signal>/backbone.json      post and user ids, thresholds per media type, FFM metrics
 *   <run>/<signal>/posts.npy          mature post embeddings (rows follow backbone.json's postIds), float32
 *   <run>/<signal>/users.npy          user embeddings (rows follow userIds), float32
 *   <run>/<signal>/memer-<media>.onnx the MEMER inference models
 */
import type { BackboneVersionMetrics } from '../models/model-metrics.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy } from '../../datasets/npy.js';
import type { MediaType } from '../types.js';

export interface ThresholdArtefact {
  threshold: number;
  source: string;
  views: number[];
  distance: number[];
  count: number[];
  epsilon: number;
}

export interface Backbone {
  signal: string;
  dim: number;
  postIds: string[];
  userIds: string[];
  thresholds: Partial<Record<MediaType, ThresholdArtefact>>;
  metrics: BackboneVersionMetrics;
  posts: Float32Array;
  users: Float32Array;
}

export const backboneDir = (run: string, signal: string) => join(run, signal);
export const memerFile = (run: string, signal: string, mediaType: MediaType) => join(run, signal, `memer-${mediaType.toLowerCase()}.onnx`);

export function writeBackbone(modelDir: string, run: string, b: Backbone): string {
  const rel = backboneDir(run, b.signal);
  const dir = join(modelDir, rel);
  mkdirSync(dir, { recursive: true });
  writeNpy(join(dir, 'posts.npy'), { dtype: 'float32', shape: [b.postIds.length, b.dim], data: b.posts });
  writeNpy(join(dir, 'users.npy'), { dtype: 'float32', shape: [b.userIds.length, b.dim], data: b.users });
  const { posts: _p, users: _u, ...meta } = b;
  writeFileSync(join(dir, 'backbone.json'), JSON.stringify(meta));
  return rel;
}

export async function readBackbone(modelDir: string, rel: string): Promise<Backbone> {
  const dir = join(modelDir, rel);
  const meta = JSON.parse(readFileSync(join(dir, 'backbone.json'), 'utf8')) as Omit<Backbone, 'posts' | 'users'>;
  const [posts, users] = await Promise.all([readNpy(join(dir, 'posts.npy')), readNpy(join(dir, 'users.npy'))]);
  if (!(posts.data instanceof Float32Array) || !(users.data instanceof Float32Array)) throw new Error(`${rel}: embeddings must be float32`);
  if (posts.shape[0] !== meta.postIds.length || users.shape[0] !== meta.userIds.length) throw new Error(`${rel}: embedding rows do not match the ids`);
  return { ...meta, posts: posts.data, users: users.data };
}

export function writeMemer(modelDir: string, run: string, signal: string, mediaType: MediaType, onnx: Uint8Array): string {
  const rel = memerFile(run, signal, mediaType);
  mkdirSync(join(modelDir, backboneDir(run, signal)), { recursive: true });
  writeFileSync(join(modelDir, rel), onnx);
  return rel;
}
