/**
 * The service's lifecycle: listen (so /livez and /readyz answer from the first moment), migrate, open the database,
 * build services, load the models, build the indexes and Apollo, then ready; stop closes in reverse.
 * `hold` names start phases the caller finishes itself (serve --demo: the demo platform), released through
 * `readiness.release(phase)`; startApp resolves once its own phases are done. Used by `memer serve` and the HTTP tests.
 *
 * stop() is the graceful stop (memer serve calls it on SIGTERM / SIGINT): /readyz turns 503 "shutting down", the
 * listener stops accepting (idle kept-alive connections close, busy ones close after their response), the requests in
 * flight finish within config.shutdownMs (then their connections are closed), the periodic refresh stops, and only
 * then Apollo, the services (onnxruntime sessions and threads, the SQLite checkpointer, the database pools) and the
 * rate limiter's Redis close. A request's response is written only after its transaction committed, so every write a
 * client saw acknowledged is in the database (test/server/shutdown.test.ts).
 */
import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { Config } from '../config/config.js';
import { openDatabase } from '../data/db.js';
import { migrate, type MigrateResult } from '../data/migrate.js';
import { providerOf } from '../data/provider.js';
import { Services } from '../domain/services.js';
import type { Context } from '../graphql/context.js';
import type { Logger } from '../lib/logger.js';
import { observeOnnx } from '../ml/onnx/observer.js';
import { createChangeFeed, type ChangeFeed } from '../domain/sync/change-feed.js';
import { readSafelist } from '../config/safelist.js';
import { createApollo } from './apollo.js';
import { RedisApqCache } from './apq-cache.js';
import { beginDrain, listen, type Transport } from './http.js';
import { InFlight } from './in-flight.js';
import { Metrics } from './metrics.js';
import { createRateLimiter, RedisRateLimiter } from './rate-limit.js';
import { Readiness } from './readiness.js';
import { Safelist } from './safelist.js';
import { syncPlugin } from './sync-plugin.js';

export interface RunningApp {
  url: string;
  services: Services;
  apollo: ApolloServer<Context>;
  migrations: MigrateResult;
  readiness: Readiness;
  metrics: Metrics;
  /** The change feed to the other replicas (LISTEN/NOTIFY or Redis pub/sub); null: this replica only polls. */
  feed: ChangeFeed | null;
  /** The graceful stop (see above); a second call shares the first. */
  stop(options?: StopOptions): Promise<StopResult>;
}

export interface StopOptions {
  /** How long requests in flight may take; default config.shutdownMs. */
  timeoutMs?: number;
}

export interface StopResult {
  /** Requests in flight when the stop began. */
  inFlight: number;
  /** Requests whose connections were closed at the deadline, unfinished (0 when everything finished in time). */
  cut: number;
  ms: number;
}

/**
 * After the deadline: how long the handlers of the requests whose connections were closed may still take to settle (a
 * group commit already inside its transaction), before the pools close under them (their writes were never
 * acknowledged; PostgreSQL rolls back what is unfinished).
 */
const CUT_GRACE_MS = 1000;

export interface StartOptions {
  /** Start phases (name -> what it is doing) that keep /readyz at 503 until the caller releases them. */
  hold?: Record<string, string>;
  /**
   * Open the content extractors in the background once ready (memer serve), so that the first media upload does not
   * pay for it (~1 s); otherwise they open at the first one.
   */
  warmExtractors?: boolean;
}

export async function startApp(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningApp> {
  const readiness = new Readiness();
  readiness.hold('start', 'applying migrations');
  for (const [phase, reason] of Object.entries(options.hold ?? {})) readiness.hold(phase, reason);
  const limiter = createRateLimiter(config.redisUrl, logger);
  let feed: ChangeFeed | null = null;
  const metrics = new Metrics(readiness, () => transport.app?.services ?? null, () => (limiter instanceof RedisRateLimiter ? limiter.fallbacks : 0), () => feed);
  const safelist = config.safelist === null ? null : new Safelist(readSafelist(config.safelist));
  const transport: Transport = { config, logger, readiness, limiter, metrics, app: null, inflight: new InFlight(), draining: false, safelist };
  const apqCache = config.redisUrl ? new RedisApqCache(config.redisUrl, logger) : undefined;
  // The onnxruntime and micro-batcher histograms: every ONNX run in this process (the observers are process-wide).
  const unobserve = observeOnnx(metrics.onnxObserver());
  let server: Server;
  let url: string;
  try {
    ({ server, url } = await listen(transport, config.host, config.port));
  } catch (err) {
    unobserve();
    await limiter.close();
    await apqCache?.close();
    throw err;
  }
  const closeServer = async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
  };

  let services: Services | undefined;
  let apollo: ApolloServer<Context> | undefined;
  let migrations: MigrateResult | undefined;
  let timer: NodeJS.Timeout | undefined;
  // The periodic refresh in flight: a stop waits for it before the database closes.
  let refreshing: Promise<void> = Promise.resolve();
  // The refresh a change notification started (awaited by a stop, as the periodic one).
  let changeRefresh: Promise<void> = Promise.resolve();
  try {
    migrations = await migrate(config.databaseUrl);
    if (migrations.applied.length) logger.info('applied migrations', { provider: migrations.provider, applied: migrations.applied });
    readiness.hold('start', 'opening the database');
    const db = await openDatabase(config.databaseUrl, { onTiming: metrics.dbTimer(providerOf(config.databaseUrl)) });
    await db.backgroundCheckpoints();
    services = new Services(db, config, logger);
    // Listening before the models and indexes load: a change committed meanwhile is refreshed as soon as they exist.
    const live = services;
    feed = await createChangeFeed(config, logger, (kinds) => {
      logger.debug('change notification', { kinds });
      changeRefresh = live.refreshAfterChange().catch((err: unknown) => logger.error('refresh after a change notification failed', { error: (err as Error).message }));
    });
    readiness.hold('start', 'loading the active models');
    await services.registry.sync();
    await services.widths.refresh();
    // Raw media would be refused at upload for these; say so now, naming the widths.
    for (const problem of services.media.mismatches()) logger.warn(problem);
    readiness.hold('start', 'building the recommendation indexes');
    await services.index.warm();
    // Other processes (memer train, other replicas) write models and embeddings: pick them up periodically.
    const s = services;
    timer = setInterval(() => {
      refreshing = s.refresh().catch((err: unknown) => logger.error('refresh failed', { error: (err as Error).message }));
    }, config.refreshMs);
    timer.unref();
    apollo = await createApollo(services, logger, { metrics, apqCache, plugins: feed ? [syncPlugin<Context>(feed)] : [] });
    transport.app = { apollo, services };
    readiness.attach(services);
    readiness.release('start');
    if (options.warmExtractors) void services.media.warm().catch((err: unknown) => logger.error('the content extractors could not be opened', { error: (err as Error).message }));
  } catch (err) {
    clearInterval(timer);
    await closeServer();
    await feed?.close();
    await changeRefresh;
    await apollo?.stop();
    await services?.close();
    unobserve();
    await limiter.close();
    await apqCache?.close();
    throw err;
  }
  const started = { services, apollo, migrations };
  let stopping: Promise<StopResult> | null = null;
  const stop = async ({ timeoutMs = config.shutdownMs }: StopOptions): Promise<StopResult> => {
    const t0 = performance.now();
    const inFlight = transport.inflight.size;
    readiness.stop();
    beginDrain(transport);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    clearInterval(timer);
    const finished = await transport.inflight.settled(timeoutMs);
    const cut = transport.inflight.size;
    if (!finished) logger.warn('stop: requests still in flight at the deadline; closing their connections', { requests: cut, timeoutMs });
    server.closeAllConnections();
    await closed;
    if (!finished) await transport.inflight.settled(CUT_GRACE_MS);
    // Pending notifications go out; none come in from here on.
    await feed?.close();
    await refreshing;
    await changeRefresh;
    await started.apollo.stop();
    await started.services.close();
    unobserve();
    await limiter.close();
    await apqCache?.close();
    return { inFlight, cut, ms: Math.round(performance.now() - t0) };
  };
  return {
    url,
    ...started,
    readiness,
    metrics,
    feed,
    stop(options = {}) {
      stopping ??= stop(options);
      return stopping;
    },
  };
}
