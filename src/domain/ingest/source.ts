/** What the ingest loop needs from a stream (NATS JetStream, Redis Streams): pull, ack after commit, lag. */
export interface SourceMessage {
  /** The event's JSON (null: the transport has no payload for it, e.g. a Redis entry deleted while pending). */
  data: string | null;
  /** Where it came from, for logs: `seq 42` (JetStream), `1700000000000-0` (Redis). */
  ref: string;
  /** The transport's handle, for ack. */
  handle: unknown;
}

export interface EventSource {
  readonly name: string;
  /**
   * Up to `max` messages: waits up to `waitMs` for the first, then returns with what is already there. Nothing is
   * pulled from the server beyond `max` messages, and nothing while the caller is not reading (back-pressure).
   */
  read(max: number, waitMs: number): Promise<SourceMessage[]>;
  /** Acknowledges messages (after their batch committed); unacknowledged ones are delivered again. */
  ack(messages: readonly SourceMessage[]): Promise<void>;
  /** Messages of the stream this consumer has not acknowledged yet (not yet delivered + delivered and pending). */
  lag(): Promise<number | null>;
  close(): Promise<void>;
}
