/**
 * Prometheus metrics (GET /metrics, prom-client). One registry per running app, so that tests can start several
 * in one process. Names and meanings: docs/operations.md. Labels hold only bounded values: routes, error codes,
 * operation names up to MAX_OPERATION_NAMES (then "other"), signals and model versions.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Services } from '../domain/services.js';
import type { ChangeFeed } from '../domain/sync/change-feed.js';
import type { Readiness } from './readiness.js';

const MAX_OPERATION_NAMES = 200;
/** Seconds: from a cached read (~0.5 ms) to a large batch (seconds). */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
  private readonly operationNames = new Set<string>();

  constructor(readiness: Readiness, services: () => Services | null, rateLimitFallbacks: () => number, feed: () => ChangeFeed | null = () => null) {
    collectDefaultMetrics({ register: this.registry });
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
