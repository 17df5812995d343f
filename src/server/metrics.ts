/**
 * Prometheus metrics (GET /metrics, prom-client). One registry per running app, so that tests can start several
 * in one process. Names and meanings: docs/operations.md. Labels hold only bounded values: routes, error codes,
 * operation names up to MAX_OPERATION_NAMES (then "other"), signals, media types and model versions, ONNX session
 * kinds, database operations up to MAX_DB_OPERATIONS. The ONNX and micro-batcher histograms are fed by the hooks of
 * src/ml/onnx/observer.ts (onnxObserver, added by app.ts), the database ones by openDatabase's onTiming (dbTimer).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Provider } from '../data/provider.js';
import type { OpenOptions } from '../data/db.js';
import type { Services } from '../domain/services.js';
import { META } from '../ml/memer/export.js';
import type { OnnxObserver, RunSession } from '../ml/onnx/observer.js';
import type { ChangeFeed } from '../domain/sync/change-feed.js';
import type { Readiness } from './readiness.js';

const MAX_OPERATION_NAMES = 200;
/** Seconds: from a cached read (~0.5 ms) to a large batch (seconds). */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: from a one-post MEMER run (~50 us) to an extractor run over a video's frames (seconds). */
const ONNX_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds in the micro-batcher's queue: usually one event-loop turn (tens of us), more while a run is in flight. */
const WAIT_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Rows in one micro-batcher run (its maxBatch defaults to 1024). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/** Seconds: from a cached direct SQLite statement (~10 us) to a slow transaction. */
const DB_BUCKETS = [0.00002, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
/** Most distinct database operation labels (Prisma Model.operation, direct verb + table); later ones are "other". */
const MAX_DB_OPERATIONS = 300;

/** Labels of an ONNX session (see sessionLabels). */
interface SessionLabels {
  kind: string;
  signal: string;
  media_type: string;
}

/** The kind of a session that is no served MEMER model, from the label its creator gave it (src/ml). */
function sessionKind(label: string): string {
  if (label.startsWith('extractor') || label.startsWith('text model')) return 'extractor';
  if (label.startsWith('mips-topk')) return 'retrieval';
  if (label.startsWith('memer-train') || label.startsWith('memer-eval')) return 'training';
  return 'other';
}

/** What the HTTP layer learns about a request from Apollo (for its log line); the plugin fills it in. */
export interface RequestInfo {
  id: string;
  operation: string | null;
  outcome: string | null;
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({ name: 'memer_http_request_duration_seconds', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], buckets: BUCKETS, registers: [this.registry] });
  readonly operationDuration = new Histogram({
    name: 'memer_graphql_operation_duration_seconds',
    help: 'GraphQL operations (parse to response) by operation name, type, first root field and outcome (ok or the first error code)',
    labelNames: ['operation', 'type', 'field', 'outcome'],
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly queryRejected = new Counter({ name: 'memer_query_rejected_total', help: 'Operations refused by a query limit (QUERY_TOO_COMPLEX), by limit', labelNames: ['limit'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'memer_rate_limited_total', help: 'Requests refused by a rate limit (RATE_LIMITED), by client kind (key, address)', labelNames: ['client'], registers: [this.registry] });
  readonly onnxRunDuration = new Histogram({
    name: 'memer_onnx_run_duration_seconds',
    help: 'onnxruntime session runs (wall time, session thread round trip included) by kind (memer, memer_ensemble, extractor, retrieval, training, other) and, for MEMER models, signal and media type',
    labelNames: ['kind', 'signal', 'media_type'],
    buckets: ONNX_BUCKETS,
    registers: [this.registry],
  });
  readonly inferenceBatchSize = new Histogram({
    name: 'memer_inference_batch_size',
    help: 'Posts (rows) per run of the MEMER micro-batcher (concurrent single-post inferences sharing one run), by signal and media type',
    labelNames: ['signal', 'media_type'],
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  readonly inferenceQueueWait = new Histogram({
    name: 'memer_inference_queue_wait_seconds',
    help: 'Time a MEMER inference request waited in the micro-batcher queue before its run started, by signal and media type',
    labelNames: ['signal', 'media_type'],
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly dbQueryDuration = new Histogram({
    name: 'memer_db_query_duration_seconds',
    help: 'Database calls by provider, client (prisma, direct) and operation (Prisma Model.operation or raw call; direct: statement verb and table, or transaction)',
    labelNames: ['provider', 'client', 'operation'],
    buckets: DB_BUCKETS,
    registers: [this.registry],
  });
  private readonly operationNames = new Set<string>();
  private readonly dbOperations = new Set<string>();
  private readonly sessionLabelCache = new WeakMap<RunSession, SessionLabels>();

  constructor(
    readiness: Readiness,
    private readonly services: () => Services | null,
    rateLimitFallbacks: () => number,
    feed: () => ChangeFeed | null = () => null,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'memer_db_pool_connections',
      help: 'PostgreSQL connections of each pool (prisma, direct) by state (idle, busy); absent on SQLite',
      labelNames: ['pool', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { pool, stats } of services()?.db.poolStats?.() ?? []) {
          this.set({ pool, state: 'idle' }, stats.idle);
          this.set({ pool, state: 'busy' }, stats.total - stats.idle);
        }
      },
    });
    new Gauge({
      name: 'memer_db_pool_waiting',
      help: 'Callers waiting for a PostgreSQL connection of each pool (prisma, direct); absent on SQLite',
      labelNames: ['pool'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { pool, stats } of services()?.db.poolStats?.() ?? []) this.set({ pool }, stats.waiting);
      },
    });
    new Gauge({
      name: 'memer_ready',
      help: '1 when /readyz answers 200',
      registers: [this.registry],
      async collect() {
        this.set((await readiness.check()).ready ? 1 : 0);
      },
    });
    new Counter({
      name: 'memer_rate_limit_fallbacks_total',
      help: 'Requests whose rate limit was decided by the local buckets because Redis failed',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(rateLimitFallbacks());
      },
    });
    let signalNames = new Map<number, string>();
    new Gauge({
      name: 'memer_index_posts',
      help: 'Posts in the recommendation index of each signal',
      labelNames: ['signal', 'approximate'],
      registers: [this.registry],
      async collect() {
        const s = services();
        if (!s) return;
        const built = await s.index.built();
        if (built.some((b) => !signalNames.has(b.signalKey))) signalNames = new Map((await s.signals.all()).map((x) => [x.key, x.name]));
        this.reset();
        for (const b of built) this.set({ signal: signalNames.get(b.signalKey) ?? String(b.signalKey), approximate: String(b.approximate) }, b.posts);
      },
    });
    new Gauge({
      name: 'memer_index_refresh_lag_seconds',
      help: 'Age of the oldest recommendation index window: rows written by other processes since then are not picked up yet',
      registers: [this.registry],
      async collect() {
        const built = (await services()?.index.built()) ?? [];
        this.set(built.length ? (Date.now() - Math.min(...built.map((b) => b.watermark.getTime()))) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'memer_sync_connected',
      help: 'Whether the change feed to the other replicas is listening (1) or reconnecting (0), by transport (postgres, redis); absent when replicas only poll',
      labelNames: ['transport'],
      registers: [this.registry],
      collect() {
        this.reset();
        const f = feed();
        if (f) this.set({ transport: f.transport }, f.connected ? 1 : 0);
      },
    });
    new Counter({
      name: 'memer_sync_notifications_total',
      help: "Change notifications this replica sent (its uploads, activations, experiment changes) and received from the others (each one a refresh), and sends that failed",
      labelNames: ['direction'],
      registers: [this.registry],
      collect() {
        this.reset();
        const f = feed();
        if (!f) return;
        this.inc({ direction: 'sent' }, f.stats.sent);
        this.inc({ direction: 'received' }, f.stats.received);
        this.inc({ direction: 'failed' }, f.stats.sendFailures);
      },
    });
    new Gauge({
      name: 'memer_model_active',
      help: 'Active MEMER model versions loaded by this process (1 per signal and media type)',
      labelNames: ['signal', 'media_type', 'version'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of services()?.registry.current().memer.values() ?? []) this.set({ signal: m.signal, media_type: m.mediaType, version: m.version }, 1);
      },
    });
  }

  /**
   * The ONNX observer (src/ml/onnx/observer.ts) feeding the onnxruntime and micro-batcher histograms; app.ts adds it
   * with observeOnnx. Per run: a cached label lookup and one observe.
   */
  onnxObserver(): OnnxObserver {
    return {
      onRun: (seconds, { session }) => this.onnxRunDuration.observe(this.sessionLabels(session) as unknown as Record<string, string>, seconds),
      onBatch: ({ session, rows, waits }) => {
        const { signal, media_type } = this.sessionLabels(session);
        const labels = { signal, media_type };
        this.inferenceBatchSize.observe(labels, rows);
        for (const w of waits) this.inferenceQueueWait.observe(labels, w);
      },
    };
  }

  /**
   * Labels of a session, computed once per session: a served MEMER model's signal and media type (from the registry,
   * else its metadata); an ensemble's (merged models of one media type) signals joined by "+"; other sessions by kind.
   * No version or post ids: the label values stay bounded by the signals and media types.
   */
  sessionLabels(session: RunSession): SessionLabels {
    let labels = this.sessionLabelCache.get(session);
    if (labels) return labels;
    const snapshot = this.services()?.registry.current();
    const ensemble = snapshot?.ensembles.find((e) => e.runner.session === session);
    const model = snapshot ? [...snapshot.memer.values()].find((m) => m.embedder.session === session) : undefined;
    const signal = session.metadata[META.signal];
    if (ensemble) labels = { kind: 'memer_ensemble', signal: ensemble.models.map((m) => m.signal).join('+'), media_type: ensemble.models[0].mediaType };
    else if (model) labels = { kind: 'memer', signal: model.signal, media_type: model.mediaType };
    else if (signal !== undefined) labels = { kind: 'memer', signal, media_type: (session.metadata[META.mediaType] ?? '').toUpperCase() };
    else labels = { kind: session.label.startsWith('ensemble:') ? 'memer_ensemble' : sessionKind(session.label), signal: '', media_type: '' };
    // An ensemble or model not (yet) in the registry is looked up again at its next run.
    if (ensemble || model || signal !== undefined || !session.label.startsWith('ensemble:')) this.sessionLabelCache.set(session, labels);
    return labels;
  }

  /** The database timing hook (openDatabase's onTiming) for the database of `provider`. */
  dbTimer(provider: Provider): NonNullable<OpenOptions['onTiming']> {
    return (seconds, { client, operation }) => this.dbQueryDuration.observe({ provider, client, operation: this.dbOperationLabel(operation) }, seconds);
  }

  private dbOperationLabel(operation: string): string {
    if (this.dbOperations.has(operation)) return operation;
    if (this.dbOperations.size >= MAX_DB_OPERATIONS) return 'other';
    this.dbOperations.add(operation);
    return operation;
  }

  /** A bounded label for an operation name: names past the first MAX_OPERATION_NAMES (or odd ones) are "other". */
  operationLabel(name: string | null | undefined): string {
    if (!name) return '(anonymous)';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES || !/^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name)) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** Times each operation and fills in the request's RequestInfo (context.request) for the log line. */
  apolloPlugin<C extends BaseContext & { request?: RequestInfo }>(): ApolloServerPlugin<C> {
    return {
      requestDidStart: async ({ contextValue }) => {
        const t0 = performance.now();
        return {
          willSendResponse: async ({ response, operation, operationName }) => {
            const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
            const code = errors?.length ? errors[0].extensions?.code : undefined;
            const outcome = errors?.length ? (typeof code === 'string' ? code : 'error') : 'ok';
            if (code === 'QUERY_TOO_COMPLEX') this.queryRejected.inc({ limit: String(errors?.[0].extensions?.limit ?? 'unknown') });
            const first = operation?.selectionSet.selections.find((s) => s.kind === 'Field');
            const label = this.operationLabel(operationName);
            this.operationDuration.observe(
              { operation: label, type: operation?.operation ?? 'unknown', field: first?.kind === 'Field' ? first.name.value : 'none', outcome },
              (performance.now() - t0) / 1000,
            );
            if (contextValue.request) {
              contextValue.request.operation = operationName ?? null;
              contextValue.request.outcome = outcome;
            }
          },
        };
      },
    };
  }
}
