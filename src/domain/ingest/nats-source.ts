/**
 * NATS JetStream as an event source: a durable pull consumer (created with explicit acks if missing) on an existing
 * stream. One pull request (`fetch`) of at most the batch's room is open at a time, and a new one is sent only when
 * the loop reads again, so nothing is pulled while a batch is being written. The library's fetch waits at least 1 s
 * for a full batch; reads take what arrived within their own wait and leave the rest of the open fetch to the next read.
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AppError, ErrorCode, notFound } from '../../errors.js';
import type { EventSource, SourceMessage } from './source.js';

export interface NatsSourceOptions {
  /** host:port */
  server: string;
  stream: string;
  durable: string;
  /** Filter subject of a consumer created here; the stream's subjects when absent. */
  subject?: string;
}

/** The library's minimum pull expiry; an idle consumer sends one pull request per FETCH_EXPIRES_MS. */
const FETCH_EXPIRES_MS = 1000;
const TIMEOUT = Symbol('timeout');

function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), ms)))]).finally(() => clearTimeout(timer));
}

export class NatsSource implements EventSource {
  private fetching: ConsumerMessages | null = null;
  private iterator: AsyncIterator<JsMsg> | null = null;
  /** The iterator's next() still unanswered when a read's wait ran out: the next read takes it over. */
  private next: Promise<IteratorResult<JsMsg>> | null = null;

  private constructor(
    readonly name: string,
    private readonly nc: NatsConnection,
    private readonly consumer: Consumer,
  ) {}

  static async open(o: NatsSourceOptions): Promise<NatsSource> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: o.server, name: 'memer-ingest', maxReconnectAttempts: -1 });
    } catch (err) {
      throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, `cannot connect to NATS at ${o.server}: ${(err as Error).message}`);
    }
    try {
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.streams.info(o.stream);
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) throw notFound(`NATS stream "${o.stream}" not found at ${o.server}`);
        throw err;
      }
      try {
        await jsm.consumers.info(o.stream, o.durable);
      } catch (err) {
        if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
        await jsm.consumers.add(o.stream, { durable_name: o.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...(o.subject ? { filter_subject: o.subject } : {}) });
      }
      const consumer = await jetstream(nc).consumers.get(o.stream, o.durable);
      return new NatsSource(`nats://${o.server}/${o.stream} (durable ${o.durable})`, nc, consumer);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  async read(max: number, waitMs: number): Promise<SourceMessage[]> {
    const out: SourceMessage[] = [];
    const deadline = Date.now() + waitMs;
    while (out.length < max) {
      if (!this.iterator) {
        this.fetching = await this.consumer.fetch({ max_messages: max - out.length, expires: FETCH_EXPIRES_MS });
        this.iterator = this.fetching[Symbol.asyncIterator]();
      }
      this.next ??= this.iterator.next();
      // After the first message, only those already received join this read (a 0 ms timer runs after them).
      const r = await within(this.next, out.length ? 0 : Math.max(0, deadline - Date.now()));
      if (r === TIMEOUT) break;
      this.next = null;
      if (r.done) {
        this.iterator = this.fetching = null;
        if (out.length || Date.now() >= deadline) break;
        continue;
      }
      out.push({ data: r.value.string(), ref: `seq ${r.value.seq}`, handle: r.value });
    }
    return out;
  }

  async ack(messages: readonly SourceMessage[]): Promise<void> {
    // ackAck: the server confirms each, so an exit right after does not lose acks still in the socket. One it does
    // not confirm is redelivered after the consumer's ack_wait, and skipped as a duplicate.
    await Promise.all(messages.map((m) => (m.handle as JsMsg).ackAck().catch(() => false)));
  }

  async lag(): Promise<number> {
    const info = await this.consumer.info();
    return info.num_pending + info.num_ack_pending;
  }

  async close(): Promise<void> {
    // Messages of the open fetch that no read took are handed back at once (nak) rather than after ack_wait.
    if (this.iterator) {
      const rest = this.iterator;
      const pending = this.next;
      this.iterator = this.next = null;
      const nak = (r: IteratorResult<JsMsg>) => (r.done ? false : (r.value.nak(), true));
      try {
        if (!pending || nak(await pending)) for (let r = await rest.next(); nak(r); r = await rest.next());
      } catch {
        // a fetch that failed has nothing more to hand back
      }
    }
    await this.nc.drain();
  }
}
