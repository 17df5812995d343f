/**
 * The consumer loop of `memer ingest`: reads interaction events from a stream in batches, writes each batch through
 * recordInteractions' own path (UploadsService.record: validation, one transaction, MEMER refresh) and acknowledges
 * it only once it is committed. Delivery is at least once; the event id makes the write idempotent
 * (InteractionsService), so a redelivered batch is stored once.
 *
 * A malformed event (not JSON, a missing field, or one the service refuses: an unknown post or signal, a bad label)
 * is counted, logged and acknowledged with its batch, so it never blocks the stream. The service refuses a batch at
 * its first bad element and says which: that element is dropped and the rest written again, the validation staying
 * the service's alone. Any other failure (the database, the stream) stops the loop with the batch unacknowledged.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { AppError, ErrorCode } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import type { InteractionInput, RecordResult } from '../interactions/interactions.service.js';
import { parseEvent } from './events.js';
import type { EventSource, SourceMessage } from './source.js';

export interface IngestOptions {
  /** Most events a batch (a write, a transaction). */
  batch: number;
  /** After a batch's first event, how long to wait for more before writing it. */
  lingerMs: number;
  /** Stop after this many messages (tests, one-off drains). */
  maxEvents?: number;
  /** Stop once no message arrived for this long. */
  idleExitMs?: number;
  /** Progress (with the lag) every this often. */
  progressMs: number;
  /** Aborted: finish the batch in hand, acknowledge it, stop. */
  signal: AbortSignal;
  logger: Logger;
  onProgress?: (stats: IngestStats) => void;
  /** Where memer_ingest_lag and memer_ingest_events_total are registered. */
  registry?: Registry;
}

export interface IngestStats {
  source: string;
  received: number;
  recorded: number;
  duplicates: number;
  malformed: number;
  batches: number;
  /** Unacknowledged messages of the stream for this consumer at the last look (null: unknown). */
  lag: number | null;
  seconds: number;
}

/** A wait for the first message short enough that a stop signal is seen within it. */
const IDLE_WAIT_MS = 500;

type RecordBatch = (inputs: InteractionInput[]) => Promise<RecordResult>;

/** The index of the batch element a refusal names (`details.index`, or a path `inputs[i]...`), else null. */
function refusedIndex(err: unknown, size: number): number | null {
  if (!(err instanceof AppError) || err.code !== ErrorCode.BAD_USER_INPUT) return null;
  const path = typeof err.details.path === 'string' ? /^inputs\[(\d+)\]/.exec(err.details.path) : null;
  const i = typeof err.details.index === 'number' ? err.details.index : path ? Number(path[1]) : NaN;
  return Number.isInteger(i) && i >= 0 && i < size ? i : null;
}

export async function ingest(source: EventSource, record: RecordBatch, o: IngestOptions): Promise<IngestStats> {
  const started = Date.now();
  const stats: IngestStats = { source: source.name, received: 0, recorded: 0, duplicates: 0, malformed: 0, batches: 0, lag: null, seconds: 0 };
  const lagGauge = o.registry && new Gauge({ name: 'memer_ingest_lag', help: 'Messages of the stream not yet acknowledged by this consumer (undelivered + pending)', registers: [o.registry] });
  const events = o.registry && new Counter({ name: 'memer_ingest_events_total', help: 'Events read by memer ingest, by outcome (recorded, duplicate, malformed)', labelNames: ['outcome'], registers: [o.registry] });
  let lastMessage = Date.now();
  let lastProgress = Date.now();

  const look = async () => {
    stats.lag = await source.lag().catch(() => stats.lag);
    if (stats.lag !== null) lagGauge?.set(stats.lag);
    stats.seconds = (Date.now() - started) / 1000;
  };
  const malformed = (m: SourceMessage, reason: string) => {
    stats.malformed++;
    events?.inc({ outcome: 'malformed' });
    o.logger.warn('ingest: malformed event acknowledged without a write', { ref: m.ref, reason });
  };

  const write = async (messages: SourceMessage[]) => {
    let todo: { m: SourceMessage; input: InteractionInput }[] = [];
    for (const m of messages) {
      const e = parseEvent(m.data);
      if (e.ok) todo.push({ m, input: e.input });
      else malformed(m, e.reason);
    }
    while (todo.length) {
      try {
        const r = await record(todo.map((t) => t.input));
        stats.recorded += r.recorded;
        stats.duplicates += r.duplicates;
        events?.inc({ outcome: 'recorded' }, r.recorded);
        events?.inc({ outcome: 'duplicate' }, r.duplicates);
        break;
      } catch (err) {
        const i = refusedIndex(err, todo.length);
        if (i === null) throw err;
        malformed(todo[i].m, (err as Error).message.replace(/^inputs\[\d+\]\.?/, ''));
        todo = todo.filter((_, j) => j !== i);
      }
    }
    // Only now, with the batch committed: a crash before this line redelivers it, and the event ids skip it.
    await source.ack(messages);
    stats.batches++;
  };

  while (!o.signal.aborted && !(o.maxEvents !== undefined && stats.received >= o.maxEvents)) {
    const room = Math.min(o.batch, o.maxEvents === undefined ? Infinity : o.maxEvents - stats.received);
    const batch = await source.read(room, IDLE_WAIT_MS);
    const lingerUntil = Date.now() + o.lingerMs;
    while (batch.length && batch.length < room && Date.now() < lingerUntil && !o.signal.aborted) {
      const more = await source.read(room - batch.length, lingerUntil - Date.now());
      if (!more.length) break;
      batch.push(...more);
    }
    if (batch.length) {
      stats.received += batch.length;
      lastMessage = Date.now();
      await write(batch);
    } else if (o.idleExitMs !== undefined && Date.now() - lastMessage >= o.idleExitMs) break;
    if (Date.now() - lastProgress >= o.progressMs) {
      lastProgress = Date.now();
      await look();
      o.onProgress?.(stats);
    }
  }
  await look();
  return stats;
}
