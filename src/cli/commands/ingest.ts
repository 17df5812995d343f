import { createServer } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ingest, type IngestStats } from '../../domain/ingest/ingest.service.js';
import { NatsSource } from '../../domain/ingest/nats-source.js';
import { RedisSource } from '../../domain/ingest/redis-source.js';
import type { EventSource } from '../../domain/ingest/source.js';
import { createLogger } from '../../lib/logger.js';
import { intAtLeast } from '../args.js';
import { CliError, ExitCode, type Command } from '../command.js';
import { defineCommand } from '../errors.js';
import { cliConfig, withServices } from '../context.js';

const DEFAULT_NAME = 'memer-ingest';

export const command: Command = defineCommand({
  help: [
    'Usage: memer ingest --from URL [--batch N] [--linger-ms MS] [--max N] [--idle-exit MS] [--progress-ms MS]',
    '                    [--metrics [HOST:]PORT] [--json]',
    '',
    'Consumes interaction events that a platform publishes and records them as the recordInteractions mutation does',
    '(the same validation, one transaction a batch, unknown users created) in DATABASE_URL. URL is one of:',
    '  nats://HOST:PORT/STREAM[?subject=SUBJECT&durable=NAME]',
    '      NATS JetStream: a durable pull consumer (default memer-ingest) on an existing stream; created with explicit',
    '      acks if missing (filtered to SUBJECT when given), used as it is otherwise.',
    '  redis://HOST:PORT/KEY[?group=NAME&consumer=NAME&db=N&claimIdle=MS]',
    '      Redis Streams: the consumer group (default memer-ingest, created at the stream\'s start if missing) of stream',
    '      KEY, as consumer NAME (default memer-ingest). Entries pending for more than claimIdle ms (default 60000) in',
    '      a consumer that died are taken over (XAUTOCLAIM).',
    '',
    'An event is a JSON object: {"id": "...", "userId": "...", "postId": "...", "signal": "click", "label": 1,',
    '"timestamp": "2026-12-03T12:00:00Z"} (label and timestamp optional: 1 and now; "value" and "at" are accepted for',
    'them); the NATS message body, or the field "data" of the Redis entry. "id" is the producer\'s event id.',
    '',
    'Delivery is at least once: a batch is acknowledged only after its transaction committed, and an event whose id',
    'is already stored is skipped, so redelivered or re-published events are written once. A malformed event (not',
    'JSON, a missing field, an unknown post or signal, a bad label or date) is counted, logged (a warning on stderr)',
    'and acknowledged, so it never blocks the stream. Any other failure (the database, the stream) exits 1 with the',
    'batch unacknowledged: it is delivered again to the next run. SIGINT or SIGTERM finishes and acknowledges the batch',
    'in hand and exits 0.',
    '',
    'Options:',
    '  --from URL          the stream (required)',
    '  --batch N           most events a batch (default 1000, at most MEMER_MAX_BATCH)',
    '  --linger-ms MS      after a batch\'s first event, wait up to MS for more (default 50)',
    '  --max N             stop after N messages',
    '  --idle-exit MS      stop once no message arrived for MS (default: run until a signal)',
    '  --progress-ms MS    log progress and the lag every MS (default 5000)',
    '  --metrics [H:]PORT  serve GET /metrics (memer_ingest_lag, memer_ingest_events_total) on HOST (127.0.0.1):PORT',
    '  --json              print the summary as JSON on stdout (received, recorded, duplicates, malformed, batches,',
    '                      lag: messages of the stream this consumer has not acknowledged, seconds)',
  ].join('\n'),
  options: {
    from: { type: 'string' },
    batch: { type: 'string' },
    'linger-ms': { type: 'string' },
    max: { type: 'string' },
    'idle-exit': { type: 'string' },
    'progress-ms': { type: 'string' },
    metrics: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const from = values.from as string | undefined;
    if (!from) throw new CliError('--from URL is required (nats://HOST:PORT/STREAM or redis://HOST:PORT/KEY)', ExitCode.USAGE);
    const config = cliConfig();
    const batch = intAtLeast('batch', values.batch as string | undefined, 1) ?? Math.min(1000, config.maxBatch);
    if (batch > config.maxBatch) throw new CliError(`--batch ${batch} is over MEMER_MAX_BATCH (${config.maxBatch})`, ExitCode.USAGE);
    const options = {
      batch,
      lingerMs: intAtLeast('linger-ms', values['linger-ms'] as string | undefined, 0) ?? 50,
      maxEvents: intAtLeast('max', values.max as string | undefined, 1),
      idleExitMs: intAtLeast('idle-exit', values['idle-exit'] as string | undefined, 0),
      progressMs: intAtLeast('progress-ms', values['progress-ms'] as string | undefined, 1) ?? 5000,
    };
    const open = sourceOf(from);
    const metrics = values.metrics === undefined ? undefined : listenAddress(values.metrics as string);
    const logger = createLogger(config.logLevel);

    // The first signal ends the loop after its batch; a second one exits at once (as memer serve does).
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(ExitCode.FAILURE);
      logger.info('ingest: stopping after the batch in hand', { signal });
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const server = metrics && createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text), () => res.writeHead(500).end());
    });
    try {
      if (server && metrics) await new Promise<void>((resolve, reject) => server.once('error', reject).listen(metrics.port, metrics.host, resolve));
      const stats = await withServices(async (services) => {
        // The active MEMER models, so that a post whose views doubled gets its vector recomputed as after the mutation.
        await services.registry.sync();
        const source = await open();
        logger.info('ingest: consuming', { source: source.name, batch: options.batch });
        // Activations made meanwhile (memer train --activate), as a server's refresh picks them up.
        const resync = setInterval(() => void services.registry.sync().catch((err) => logger.warn('ingest: model registry sync failed', { error: String(err) })), 30_000).unref();
        try {
          return await ingest(source, (inputs) => services.uploads.record(inputs), {
            ...options,
            signal: stop.signal,
            logger,
            registry,
            onProgress: (s) => logger.info('ingest progress', { ...s }),
          });
        } finally {
          clearInterval(resync);
          await source.close();
        }
      }, config);
      console.log(values.json ? JSON.stringify(stats) : summary(stats));
      return ExitCode.OK;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      server?.close();
    }
  },
});

function summary(s: IngestStats): string {
  return `ingested from ${s.source}: ${s.received} events, ${s.recorded} recorded, ${s.duplicates} duplicates skipped, ` +
    `${s.malformed} malformed acknowledged, in ${s.batches} batches and ${s.seconds.toFixed(1)} s; lag ${s.lag ?? 'unknown'}`;
}

/** `--from` parsed into the source it opens (a usage error, exit 2, names what is wrong). */
function sourceOf(from: string): () => Promise<EventSource> {
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    throw new CliError(`--from: not a URL: "${from}"`, ExitCode.USAGE);
  }
  const name = decodeURIComponent(url.pathname.slice(1));
  const q = url.searchParams;
  const server = `${url.hostname}:${url.port || (url.protocol === 'nats:' ? 4222 : 6379)}`;
  if (!url.hostname) throw new CliError(`--from ${from}: no host`, ExitCode.USAGE);
  if (url.protocol === 'nats:') {
    if (!name || name.includes('/')) throw new CliError(`--from ${from}: name the stream (nats://HOST:PORT/STREAM)`, ExitCode.USAGE);
    return () => NatsSource.open({ server, stream: name, durable: q.get('durable') ?? DEFAULT_NAME, subject: q.get('subject') ?? undefined });
  }
  if (url.protocol === 'redis:') {
    if (!name) throw new CliError(`--from ${from}: name the stream key (redis://HOST:PORT/KEY)`, ExitCode.USAGE);
    const db = intAtLeast('from ... db', q.get('db') ?? undefined, 0) ?? 0;
    const claimIdleMs = intAtLeast('from ... claimIdle', q.get('claimIdle') ?? undefined, 0) ?? 60_000;
    const auth = url.username || url.password ? `${url.username}:${url.password}@` : '';
    return () => RedisSource.open({ url: `redis://${auth}${server}/${db}`, key: name, group: q.get('group') ?? DEFAULT_NAME, consumer: q.get('consumer') ?? DEFAULT_NAME, claimIdleMs });
  }
  throw new CliError(`--from ${from}: expected nats://HOST:PORT/STREAM or redis://HOST:PORT/KEY`, ExitCode.USAGE);
}

function listenAddress(text: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new CliError(`--metrics expects [HOST:]PORT, got "${text}"`, ExitCode.USAGE);
  return { host: m[1] ?? '127.0.0.1', port };
}
