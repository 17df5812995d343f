/** Everything the GraphQL layer and the CLI need, built once per process over one database. */
import type { Config } from '../config/config.js';
import type { Db } from '../data/db.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { OnnxRuntime } from '../ml/onnx/runtime.js';
import { Catalog } from './catalog.js';
import { BaselineCache } from './embeddings/baselines.js';
import { ExperimentsService, type ExperimentsOptions } from './experiments/experiments.service.js';
import type { ExperimentRecord } from './experiments/experiment.types.js';
import { InteractionsService } from './interactions/interactions.service.js';
import { KeysService } from './keys/keys.service.js';
import { RequestLoaders } from './loaders.js';
import { ModelRegistry } from './models/registry.js';
import { ModelsService } from './models/models.service.js';
import { MediaService } from './media/media.service.js';
import { FeatureWidths } from './posts/feature-widths.js';
import { PostsService } from './posts/posts.service.js';
import { needsVariant, type VariantSource } from './recommend/arm-variant.js';
import { PostIndex } from './recommend/post-index.js';
import { RecommendationsService } from './recommend/recommendations.service.js';
import { SignalsService } from './signals/signals.service.js';
import { UploadsService } from './uploads.service.js';
import { UsersService } from './users/users.service.js';

export class Services {
  readonly posts: PostsService;
  /** The feature widths registrations are checked against (configured, or from the active models and stored posts). */
  readonly widths: FeatureWidths;
  /** Raw media in registrations: decoding and the built-in content extractors (docs/content-pipeline.md). */
  readonly media: MediaService;
  readonly users: UsersService;
  readonly interactions: InteractionsService;
  readonly signals: SignalsService;
  readonly keys: KeysService;
  readonly models: ModelsService;
  readonly baselines: BaselineCache;
  readonly catalog: Catalog;
  readonly runtime: OnnxRuntime;
  /**
   * The served MEMER models' sessions: with config.modelThread, runs of 4 posts or more go to a thread of their own and
   * a single upload's run stays here, where it costs less than the round trip (c=1 p50 2.9-3.9 ms against 3.5-4.1).
   */
  readonly modelRuntime: OnnxRuntime;
  readonly registry: ModelRegistry;
  readonly index: PostIndex;
  readonly uploads: UploadsService;
  readonly recommendations: RecommendationsService;
  /** Online experiments: definitions, assignment, the exposure log (drained by close), reports. */
  readonly experiments: ExperimentsService;

  constructor(
    readonly db: Db,
    readonly config: Config,
    readonly logger: Logger = createLogger(config.logLevel),
    options: { experiments?: ExperimentsOptions } = {},
  ) {
    this.posts = new PostsService(db, () => this.widths.current());
    this.users = new UsersService(db.prisma, config);
    this.signals = new SignalsService(db.prisma);
    this.interactions = new InteractionsService(db.stores.interactions, config);
    this.keys = new KeysService(db.prisma);
    this.models = new ModelsService(db.prisma);
    this.baselines = new BaselineCache(db.prisma, config.refreshMs);
    this.catalog = new Catalog(db.prisma, config.refreshMs);
    // No spin-waiting: a server interleaves small runs with request handling, and spinning threads would take the CPU
    // the event loop needs (measured: registerPost on 2 cores).
    const ort = { provider: config.executionProvider, intraOpThreads: config.ortThreads, spinning: false, log: (line: string) => logger.info(line) };
    this.runtime = new OnnxRuntime(ort);
    this.modelRuntime = config.modelThread ? new OnnxRuntime({ ...ort, thread: true, threadMinRows: 4 }) : this.runtime;
    this.registry = new ModelRegistry(db.prisma, this.modelRuntime, config.modelDir, logger);
    this.media = new MediaService(config, logger, () => this.widths.current());
    // A new installation's widths are its extractors' own (with MEMER_EXTRACTORS=builtin).
    this.widths = new FeatureWidths(db.prisma, config, this.registry, this.media.fallback() ?? undefined);
    this.index = new PostIndex(db.prisma, db.stores.recommendations, this.baselines, logger, this.runtime, { approximateFrom: config.approximateFrom });
    this.uploads = new UploadsService(db, this.posts, this.interactions, this.registry, this.index, this.baselines, this.catalog, logger);
    this.experiments = new ExperimentsService(db, this.catalog, logger, config.maxBatch, {
      ...options.experiments,
      onChange: (running) => {
        this.index.useVariants(variantsOf(running));
        options.experiments?.onChange?.(running);
      },
    });
    this.recommendations = new RecommendationsService(db.prisma, this.index, db.stores.recommendations, config.maxRecommendations, this.experiments);
  }

  /** Fresh DataLoaders for one request. */
  loaders(): RequestLoaders {
    return new RequestLoaders(this.db.prisma, this.baselines, this.catalog);
  }

  private refreshing: Promise<void> | null = null;
  /** SQLite: data_version when the last full refresh started (see refresh). */
  private refreshedAt: number | undefined;

  /**
   * Picks up model activations and embeddings written by other processes (the server calls this periodically).
   * Single flight: a call while one runs shares it, so slow index rebuilds never pile up.
   */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      // On a SQLite file, only another connection's commit can bring models, vectors or posts this process has not
      // indexed itself; without one (data_version unchanged) the windows just move on. Under upload load the full
      // refresh (a dozen queries, 11-14 ms every 2 s) was the largest part of registerPost's p99 at c=16.
      const version = this.db.direct?.dataVersion();
      if (version !== undefined && version === this.refreshedAt) return this.index.advance();
      await this.registry.sync();
      await this.widths.refresh();
      await this.index.refresh();
      await this.experiments.refresh();
      this.refreshedAt = version;
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private refreshingAgain: Promise<void> | null = null;

  /**
   * A refresh that starts after this call: for a change notification (sync/), whose row a refresh already in flight
   * may have read past. Calls while one waits share it.
   */
  refreshAfterChange(): Promise<void> {
    const running = this.refreshing;
    if (!running) return this.refresh();
    this.refreshingAgain ??= running
      .catch(() => undefined)
      .then(() => {
        this.refreshingAgain = null;
        return this.refresh();
      });
    return this.refreshingAgain;
  }

  async close(): Promise<void> {
    // The exposure log first: its queued impressions need the database.
    await this.experiments.close();
    await this.media.close();
    await this.runtime.dispose();
    if (this.modelRuntime !== this.runtime) await this.modelRuntime.dispose();
    await this.db.close();
  }
}

/** The arm variants (recommend/arm-variant.ts) that running experiments rank with, per signal key. */
function variantsOf(running: readonly ExperimentRecord[]): Map<number, Set<VariantSource>> {
  const out = new Map<number, Set<VariantSource>>();
  for (const e of running) {
    for (const arm of e.arms) {
      if (!needsVariant(arm.source)) continue;
      let set = out.get(e.signal.key);
      if (!set) out.set(e.signal.key, (set = new Set()));
      set.add(arm.source);
    }
  }
  return out;
}
