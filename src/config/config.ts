/**
 * The one configuration loader: defaults, then an optional JSON file, then environment variables, then validation.
 * Nothing else in the project reads process.env. Every setting is documented in the README's configuration table;
 * an invalid value fails at start with a message naming the setting.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { LogLevel } from '../lib/logger.js';
import type { MediaType, Modality } from '../lib/vocabulary.js';
import { readSafelist } from './safelist.js';

export type ExecutionProvider = 'cpu' | 'cuda' | 'auto';
export type { LogLevel } from '../lib/logger.js';
export type ReadAccess = 'open' | 'key';
/** Content extractors for raw media (docs/content-pipeline.md): memer's built-in ones, or none (uploads carry vectors). */
export type Extractors = 'builtin' | 'off';

/** The per-file limits of src/media (MediaLimits); a limit not set keeps src/media/limits.ts's default. */
export type MediaLimitSettings = Partial<Record<'maxBytes' | 'maxPixels' | 'maxVideoSeconds' | 'maxFrames' | 'timeoutMs', number>>;

/**
 * Raw media uploads (registerPost's `media`, `memer extract --media`): what one file may cost, how it is sampled, and how
 * many are extracted at once. Audio-only files are not accepted, so their own limit is the video's. In the JSON file
 * they are `media: { maxBytes, ..., fps, concurrency, ocr }`.
 */
export interface MediaSettings {
  /**
   * Bytes per file, pixels of an image or video frame (as declared), seconds of video, frames kept per video (a longer
   * video is sampled more sparsely), wall-clock ms to decode one file.
   */
  limits: MediaLimitSettings;
  /** Video frames sampled per second (paper 2.2: averaged per second, then over the video). */
  fps: number;
  /** Extractions (decode + models) at once per process; each holds up to maxFrames decoded frames (602 KB each). */
  concurrency: number;
  /** Read text in images and video frames (tesseract) for the text feature; only used with a text model. */
  ocr: boolean;
}

/** Expected feature dimension per modality; a modality absent from the map is not accepted for that media type. */
export type FeatureDims = Partial<Record<Modality, number>>;

export interface Config {
  /** `file:./path.db` (SQLite) or `postgresql://...`. */
  databaseUrl: string;
  port: number;
  host: string;
  /** Where trained model artefacts (ONNX files, metadata) are written and read. */
  modelDir: string;
  /** onnxruntime execution provider: cpu, cuda, or auto (cuda when available, else cpu, with one log line). */
  executionProvider: ExecutionProvider;
  /**
   * onnxruntime intra-op threads; 0 lets onnxruntime choose (one per core). Default 1: a server's runs are small
   * (an upload group) and interleave with request handling; a second thread made them slower, and no faster even at
   * 256 posts (6 video models on 2 cores, tmp measurement in the stop-10 note).
   */
  ortThreads: number;
  /**
   * Run the served MEMER models' runs of 4 posts or more (upload groups under load, registerPosts batches) on a worker
   * thread of their own, so inference leaves the event loop. Off by default: on these 2-core machines, whose second
   * core is often unavailable for a while, the hop cost more than it saved (registerPost c=16 p99 24-30 ms without,
   * 31-43 ms with, 6 alternating pairs, `memer bench serve`); worth trying where cores are dedicated, or on CUDA.
   */
  modelThread: boolean;
  /**
   * Feature dimensions per media type and modality (paper section 2.2). Where `featuresConfigured` is false for a media
   * type, these are only the fallback: registerPost and `memer import` take each width from the active MEMER models, then
   * from the posts already stored, and only then from here (src/domain/posts/feature-widths.ts).
   */
  features: Record<MediaType, FeatureDims>;
  /** Whether `features` of a media type was set (MEMER_FEATURES_*, the JSON file, or an override): then it is binding. */
  featuresConfigured: Record<MediaType, boolean>;
  logLevel: LogLevel;
  /** `open`: queries need no key; `key`: queries need a key with the `read` scope (or any scope above it). */
  readAccess: ReadAccess;
  /** Development mode: error responses carry stack traces. */
  development: boolean;
  /** Largest batch accepted by registerPosts / recordInteractions / upsertUsers. */
  maxBatch: number;
  /** How often (ms) a server picks up model activations and embeddings written by other processes or replicas. */
  refreshMs: number;
  /** Posts per signal from which recommendations use the approximate (HNSW) index instead of an exact scan. */
  approximateFrom: number;
  /** Most distinct tags one post may carry (registerPost, registerPosts, `memer import`). */
  maxTags: number;
  /** Longest tag, in characters (after trimming). */
  maxTagLength: number;
  /** Largest `first` of `recommendations`. */
  maxRecommendations: number;
  /**
   * Query limits (src/graphql/limits.ts), each 0 = off. Checked before anything runs: depth of the selection tree,
   * aliased fields, directives and lexical tokens of the document, and cost (list fields and batches cost their
   * `first` or their number of inputs; src/graphql/cost.ts).
   */
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  /**
   * Token-bucket rate limits (src/server/rate-limit.ts): requests per second (refill) and bucket size (burst) per API
   * key, and per client address for requests without a valid key. A rate of 0 turns that limit off.
   */
  ratePerKey: number;
  burstPerKey: number;
  ratePerAddress: number;
  burstPerAddress: number;
  /** `redis://...`: replicas share their rate-limit buckets there; unset: each process keeps its own. */
  redisUrl: string | null;
  /** Take the client address from the last X-Forwarded-For entry (set by one trusted load balancer). */
  trustProxy: boolean;
  /** Graceful stop (SIGTERM, SIGINT): how long requests in flight may take to finish before their connections close. */
  shutdownMs: number;
  /**
   * A JSON manifest of the only operations this server runs (sha256 of the document -> document, or Apollo's
   * persisted-query manifest): any other is refused with PERSISTED_QUERY_NOT_IN_LIST (src/server/safelist.ts); null:
   * every operation runs (Apollo's automatic persisted queries stay on either way).
   */
  safelist: string | null;
  /**
   * How replicas tell each other about uploads, model activations and experiments, so that the others refresh at once
   * instead of at their next poll (src/domain/sync/): `redis` (pub/sub on REDIS_URL), `postgres` (LISTEN/NOTIFY on the
   * database), `auto` (redis when REDIS_URL is set, else postgres on a PostgreSQL database, else none), `off`.
   */
  sync: SyncMode;
  /** `builtin`: raw media are accepted and turned into features by memer's extractors; `off`: media are refused. */
  extractors: Extractors;
  /**
   * The installation's text model (a memer subword model, src/ml/extract/text-model.ts) that embeds a post's text and
   * the text read from its media; null: `<modelDir>/text-model.onnx` when that file exists, else no text feature from
   * media.
   */
  textModel: string | null;
  media: MediaSettings;
}

export type SyncMode = 'auto' | 'postgres' | 'redis' | 'off';

/**
 * Tags are stored in a primary key and an index: PostgreSQL's B-tree entries hold at most ~2,700 bytes, i.e. 512
 * characters of 4-byte UTF-8 with room to spare.
 */
export const TAG_LENGTH_CEILING = 512;

export const defaults: Readonly<Config> = Object.freeze({
  databaseUrl: 'file:./data/memer.db',
  port: 4000,
  host: '127.0.0.1',
  modelDir: './data/models',
  executionProvider: 'auto',
  ortThreads: 1,
  modelThread: false,
  features: {
    video: { visual: 2048, audio: 128, text: 100, aux: 3 },
    image: { visual: 2208, text: 100, aux: 3 },
  },
  featuresConfigured: { video: false, image: false },
  logLevel: 'info',
  readAccess: 'open',
  development: false,
  maxBatch: 1000,
  refreshMs: 2000,
  approximateFrom: 200_000,
  // Real catalogues carry hundreds of tags per item (a music catalogue: up to 329).
  maxTags: 1024,
  maxTagLength: 256,
  maxRecommendations: 500,
  // The deepest query of the schema is 6 levels; the standard introspection query (getIntrospectionQuery) needs 15.
  maxDepth: 15,
  // A client fetching a few posts or signals by alias stays far below; 200 aliased posts(first: 100) do not.
  maxAliases: 30,
  maxDirectives: 50,
  // Variables are not tokens of the document (batches and vectors belong there). Parsing up to the limit is what a
  // refused document costs: 10k tokens ~1.5 ms, 50k ~50 ms (graphql 16, 2-core machine; docs/operations.md).
  maxTokens: 10_000,
  // recommendations(first: 500) with every post field costs 3,500; registerPosts of 1,000 with servingSources 3,000.
  maxCost: 10_000,
  ratePerKey: 1000,
  burstPerKey: 2000,
  ratePerAddress: 100,
  burstPerAddress: 200,
  redisUrl: null,
  trustProxy: false,
  // Under Kubernetes' default grace period of 30 s, with room for the pools to close after it.
  shutdownMs: 10_000,
  safelist: null,
  sync: 'auto',
  extractors: 'builtin',
  textModel: null,
  media: {
    limits: {},
    fps: 1,
    // Two: one extraction's decode (ffmpeg, libvips) overlaps the other's models, and the decoded frames of two videos
    // at the limits stay under ~750 MB.
    concurrency: 2,
    ocr: true,
  },
});

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid configuration ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Environment variable -> config key. The same keys are accepted in the JSON file. */
export const envNames = {
  DATABASE_URL: 'databaseUrl',
  PORT: 'port',
  HOST: 'host',
  MEMER_MODEL_DIR: 'modelDir',
  MEMER_EXECUTION_PROVIDER: 'executionProvider',
  MEMER_ORT_THREADS: 'ortThreads',
  MEMER_MODEL_THREAD: 'modelThread',
  MEMER_FEATURES_VIDEO: 'features.video',
  MEMER_FEATURES_IMAGE: 'features.image',
  LOG_LEVEL: 'logLevel',
  MEMER_READ_ACCESS: 'readAccess',
  MEMER_DEV: 'development',
  MEMER_MAX_BATCH: 'maxBatch',
  MEMER_REFRESH_MS: 'refreshMs',
  MEMER_APPROXIMATE_FROM: 'approximateFrom',
  MEMER_MAX_TAGS: 'maxTags',
  MEMER_MAX_TAG_LENGTH: 'maxTagLength',
  MEMER_MAX_RECOMMENDATIONS: 'maxRecommendations',
  MEMER_MAX_DEPTH: 'maxDepth',
  MEMER_MAX_ALIASES: 'maxAliases',
  MEMER_MAX_DIRECTIVES: 'maxDirectives',
  MEMER_MAX_TOKENS: 'maxTokens',
  MEMER_MAX_COST: 'maxCost',
  MEMER_RATE_PER_KEY: 'ratePerKey',
  MEMER_BURST_PER_KEY: 'burstPerKey',
  MEMER_RATE_PER_ADDRESS: 'ratePerAddress',
  MEMER_BURST_PER_ADDRESS: 'burstPerAddress',
  REDIS_URL: 'redisUrl',
  MEMER_TRUST_PROXY: 'trustProxy',
  MEMER_SHUTDOWN_MS: 'shutdownMs',
  MEMER_SAFELIST: 'safelist',
  MEMER_SYNC: 'sync',
  MEMER_EXTRACTORS: 'extractors',
  MEMER_TEXT_MODEL: 'textModel',
  MEMER_MEDIA_MAX_BYTES: 'media.maxBytes',
  MEMER_MEDIA_MAX_PIXELS: 'media.maxPixels',
  MEMER_MEDIA_MAX_SECONDS: 'media.maxVideoSeconds',
  MEMER_MEDIA_MAX_FRAMES: 'media.maxFrames',
  MEMER_MEDIA_TIMEOUT_MS: 'media.timeoutMs',
  MEMER_MEDIA_FPS: 'media.fps',
  MEMER_MEDIA_CONCURRENCY: 'media.concurrency',
  MEMER_MEDIA_OCR: 'media.ocr',
} as const;

const MODALITY_NAMES: readonly Modality[] = ['visual', 'audio', 'text', 'aux'];

/** "visual=2048,audio=128,text=100,aux=3" -> { visual: 2048, ... } */
export function parseFeatureDims(setting: string, text: string): FeatureDims {
  const dims: FeatureDims = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split('=').map((s) => s.trim());
    if (!MODALITY_NAMES.includes(name as Modality)) throw new ConfigError(setting, `unknown modality "${name}" (expected ${MODALITY_NAMES.join(', ')})`);
    dims[name as Modality] = positiveInt(setting, value);
  }
  if (!dims.visual && !dims.text && !dims.audio && !dims.aux) throw new ConfigError(setting, 'names no modality');
  return dims;
}

function positiveInt(setting: string, value: unknown, allowZero = false): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new ConfigError(setting, `expected a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  return n;
}

function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new ConfigError(setting, `expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function bool(setting: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const s = String(value).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new ConfigError(setting, `expected true or false, got "${value}"`);
}

type Raw = Record<string, unknown>;

function mediaSettings(get: (key: string) => unknown, name: (key: string) => string): MediaSettings {
  const d = defaults.media;
  const int = (k: keyof MediaLimitSettings | 'concurrency') => {
    const v = get(`media.${k}`);
    return v === undefined ? undefined : positiveInt(name(`media.${k}`), v);
  };
  const limits: MediaLimitSettings = {};
  for (const k of ['maxBytes', 'maxPixels', 'maxVideoSeconds', 'maxFrames', 'timeoutMs'] as const) {
    const v = int(k);
    if (v !== undefined) limits[k] = v;
  }
  const rawFps = get('media.fps');
  const fps = rawFps === undefined ? d.fps : Number(String(rawFps).trim());
  // ffmpeg's fps filter and the per-second averaging: at most 60 frames a second, at least one frame a minute.
  if (!(Number.isFinite(fps) && fps >= 1 / 60 && fps <= 60)) throw new ConfigError('MEMER_MEDIA_FPS', `expected a number of frames per second in [1/60, 60], got "${String(rawFps)}"`);
  const media: MediaSettings = {
    limits,
    fps,
    concurrency: int('concurrency') ?? d.concurrency,
    ocr: get('media.ocr') === undefined ? d.ocr : bool('MEMER_MEDIA_OCR', get('media.ocr')),
  };
  if (limits.maxFrames !== undefined && limits.maxFrames < 2) throw new ConfigError('MEMER_MEDIA_MAX_FRAMES', `at least 2 frames per video, got ${limits.maxFrames}`);
  return media;
}

function readFile(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('MEMER_CONFIG', `cannot read ${path}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('MEMER_CONFIG', `${path} must hold a JSON object`);
  const raw: Raw = {};
  for (const [key, value] of Object.entries(parsed as Raw)) {
    // Nested objects of the file are the dotted keys of the environment names (features.video, media.maxBytes).
    if ((key === 'features' || key === 'media') && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [sub, v] of Object.entries(value as Raw)) raw[`${key}.${sub}`] = v;
    } else raw[key] = value;
  }
  return raw;
}

/**
 * Build the configuration from `env` (default process.env). The JSON file is MEMER_CONFIG, or ./memer.config.json
 * when present. `overrides` (e.g. from CLI flags) win over everything.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Raw = {};
  const file = env.MEMER_CONFIG ?? (existsSync('memer.config.json') ? 'memer.config.json' : undefined);
  if (file) Object.assign(raw, readFile(file));
  const settingOf: Record<string, string> = {};
  for (const [name, key] of Object.entries(envNames)) {
    settingOf[key] = name;
    if (env[name] !== undefined && env[name] !== '') raw[key] = env[name];
  }
  if (env.NODE_ENV === 'development' && raw.development === undefined) raw.development = true;
  const known = new Set<string>(Object.values(envNames));
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new ConfigError(key, `unknown setting in ${file}`);

  const get = (key: string) => raw[key];
  const name = (key: string) => settingOf[key];
  const featureDims = (media: MediaType): FeatureDims => {
    const v = get(`features.${media}`);
    if (v === undefined) return { ...defaults.features[media] };
    if (typeof v === 'string') return parseFeatureDims(name(`features.${media}`), v);
    const dims: FeatureDims = {};
    for (const [m, d] of Object.entries(v as Raw)) {
      if (!MODALITY_NAMES.includes(m as Modality)) throw new ConfigError(name(`features.${media}`), `unknown modality "${m}"`);
      dims[m as Modality] = positiveInt(name(`features.${media}`), d);
    }
    return dims;
  };

  // A non-negative integer setting whose 0 means "no limit".
  const limit = <K extends 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxTokens' | 'maxCost' | 'ratePerKey' | 'burstPerKey' | 'ratePerAddress' | 'burstPerAddress'>(key: K): number =>
    get(key) === undefined ? defaults[key] : positiveInt(name(key), get(key), true);

  const databaseUrl = String(get('databaseUrl') ?? defaults.databaseUrl);
  if (!/^(file:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with file: (SQLite) or postgresql:// (PostgreSQL)');
  }
  const port = get('port') === undefined ? defaults.port : positiveInt('PORT', get('port'), true);
  if (port > 65535) throw new ConfigError('PORT', `expected 0..65535, got ${port}`);
  const config: Config = {
    databaseUrl,
    port,
    host: String(get('host') ?? defaults.host),
    modelDir: String(get('modelDir') ?? defaults.modelDir),
    executionProvider: oneOf('MEMER_EXECUTION_PROVIDER', get('executionProvider') ?? defaults.executionProvider, ['cpu', 'cuda', 'auto'] as const),
    ortThreads: get('ortThreads') === undefined ? defaults.ortThreads : positiveInt('MEMER_ORT_THREADS', get('ortThreads'), true),
    modelThread: get('modelThread') === undefined ? defaults.modelThread : bool('MEMER_MODEL_THREAD', get('modelThread')),
    features: { video: featureDims('video'), image: featureDims('image') },
    featuresConfigured: { video: get('features.video') !== undefined, image: get('features.image') !== undefined },
    logLevel: oneOf('LOG_LEVEL', get('logLevel') ?? defaults.logLevel, ['debug', 'info', 'warn', 'error'] as const),
    readAccess: oneOf('MEMER_READ_ACCESS', get('readAccess') ?? defaults.readAccess, ['open', 'key'] as const),
    development: get('development') === undefined ? defaults.development : bool('MEMER_DEV', get('development')),
    maxBatch: get('maxBatch') === undefined ? defaults.maxBatch : positiveInt('MEMER_MAX_BATCH', get('maxBatch')),
    refreshMs: get('refreshMs') === undefined ? defaults.refreshMs : positiveInt('MEMER_REFRESH_MS', get('refreshMs')),
    approximateFrom: get('approximateFrom') === undefined ? defaults.approximateFrom : positiveInt('MEMER_APPROXIMATE_FROM', get('approximateFrom')),
    maxTags: get('maxTags') === undefined ? defaults.maxTags : positiveInt('MEMER_MAX_TAGS', get('maxTags'), true),
    maxTagLength: get('maxTagLength') === undefined ? defaults.maxTagLength : positiveInt('MEMER_MAX_TAG_LENGTH', get('maxTagLength')),
    maxRecommendations: get('maxRecommendations') === undefined ? defaults.maxRecommendations : positiveInt('MEMER_MAX_RECOMMENDATIONS', get('maxRecommendations')),
    maxDepth: limit('maxDepth'),
    maxAliases: limit('maxAliases'),
    maxDirectives: limit('maxDirectives'),
    maxTokens: limit('maxTokens'),
    maxCost: limit('maxCost'),
    ratePerKey: limit('ratePerKey'),
    burstPerKey: limit('burstPerKey'),
    ratePerAddress: limit('ratePerAddress'),
    burstPerAddress: limit('burstPerAddress'),
    redisUrl: get('redisUrl') === undefined ? defaults.redisUrl : String(get('redisUrl')),
    trustProxy: get('trustProxy') === undefined ? defaults.trustProxy : bool('MEMER_TRUST_PROXY', get('trustProxy')),
    shutdownMs: get('shutdownMs') === undefined ? defaults.shutdownMs : positiveInt('MEMER_SHUTDOWN_MS', get('shutdownMs'), true),
    safelist: get('safelist') === undefined ? defaults.safelist : String(get('safelist')),
    sync: oneOf('MEMER_SYNC', get('sync') ?? defaults.sync, ['auto', 'postgres', 'redis', 'off'] as const),
    extractors: oneOf('MEMER_EXTRACTORS', get('extractors') ?? defaults.extractors, ['builtin', 'off'] as const),
    textModel: get('textModel') === undefined ? defaults.textModel : String(get('textModel')),
    media: mediaSettings(get, name),
  };
  // Read now, so that a broken manifest stops the start naming the setting (the server reads it again when it starts).
  if (config.safelist !== null) {
    try {
      readSafelist(config.safelist);
    } catch (err) {
      throw new ConfigError('MEMER_SAFELIST', (err as Error).message);
    }
  }
  if (config.sync === 'redis' && config.redisUrl === null) throw new ConfigError('MEMER_SYNC', 'redis needs REDIS_URL');
  if (config.sync === 'postgres' && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) throw new ConfigError('MEMER_SYNC', 'postgres needs a PostgreSQL DATABASE_URL');
  if (config.redisUrl !== null && !/^rediss?:\/\//.test(config.redisUrl)) throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  for (const [rate, burst] of [['ratePerKey', 'burstPerKey'], ['ratePerAddress', 'burstPerAddress']] as const) {
    if (config[rate] > 0 && config[burst] < 1) throw new ConfigError(name(burst), `a bucket of 0 admits nothing while ${name(rate)} is ${config[rate]}`);
  }
  if (config.maxTagLength > TAG_LENGTH_CEILING) {
    throw new ConfigError('MEMER_MAX_TAG_LENGTH', `at most ${TAG_LENGTH_CEILING} (tags are index keys; PostgreSQL's B-tree entries hold ~2,700 bytes), got ${config.maxTagLength}`);
  }
  // Features given as an override (tests, tools) are binding like configured ones, unless the override says otherwise.
  const featuresConfigured = overrides.featuresConfigured ?? (overrides.features ? { video: true, image: true } : config.featuresConfigured);
  return Object.freeze({ ...config, ...overrides, featuresConfigured });
}
