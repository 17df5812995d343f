/**
 * The pretrained networks inside the nsfwjs npm package (MIT), read from node_modules without running nsfwjs or
 * tfjs and without any network access. nsfwjs ships each model as browserify bundles: `model.min.js` exports the
 * model.json object, each `group1-shardKofN.min.js` exports its weight shard as one base64 string.
 *
 *   mobilenet_v2      Keras layers model, 224x224 input in [0, 1]: a MobileNetV2 (alpha 1.0) backbone from ImageNet
 *                     weights (blocks 0-10 frozen, 11-16 and Conv_1 fine-tuned) under a 256-128-5 head trained for
 *                     nsfwjs's 5 classes; 2.6M uint8-quantized weights
 *   mobilenet_v2_mid  graph model, 224x224 in [0, 1] (scaled to [-1, 1] inside): TF-Hub MobileNetV2 1.4, fine-tuned
 *   inception_v3      Keras layers model, 299x299 in [0, 1]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { artifactsFromModelJson, type TfjsArtifacts, type TfjsModelJson } from './tfjs/artifacts.js';
import { TfjsConversionError } from './tfjs/errors.js';

export const NSFWJS_MODELS = ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'] as const;
export type NsfwjsModelName = (typeof NSFWJS_MODELS)[number];

const require = createRequire(import.meta.url);

/** The installed nsfwjs package: its folder and version. */
export function nsfwjsPackage(): { dir: string; version: string } {
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch {
    throw new TfjsConversionError('BAD_MODEL', 'the nsfwjs package is not installed (it is a dependency: run npm ci)');
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nsfwjs') return { dir, version: pkg.version ?? 'unknown' };
    } catch {
      // not the package root yet
    }
  }
  throw new TfjsConversionError('BAD_MODEL', `cannot find the nsfwjs package folder above ${entry}`);
}

/** The base64 string a shard bundle exports, decoded. */
function shardBytes(file: string): Uint8Array {
  const text = readFileSync(file, 'utf8');
  const m = /exports="([A-Za-z0-9+/=]*)"/.exec(text);
  if (!m) throw new TfjsConversionError('BAD_WEIGHTS', `${file} is not an nsfwjs weight bundle`);
  const buf = Buffer.from(m[1], 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A model's artifacts (topology, weight specs, weight bytes) from the installed nsfwjs. */
export function loadNsfwjsModel(name: NsfwjsModelName): TfjsArtifacts {
  if (!NSFWJS_MODELS.includes(name)) throw new TfjsConversionError('BAD_MODEL', `nsfwjs has no model "${name}" (${NSFWJS_MODELS.join(', ')})`);
  const dir = join(nsfwjsPackage().dir, 'dist', 'models', name);
  const modelFile = join(dir, 'model.min.js');
  // The topology bundle is a CommonJS module (dist/models/package.json says so) exporting a plain object literal.
  let json: TfjsModelJson;
  try {
    json = require(modelFile) as TfjsModelJson;
  } catch (e) {
    throw new TfjsConversionError('BAD_MODEL', `cannot read ${modelFile}: ${(e as Error).message}`);
  } finally {
    delete require.cache[modelFile];
  }
  return artifactsFromModelJson(json, (path) => shardBytes(join(dir, `${path}.min.js`)));
}
