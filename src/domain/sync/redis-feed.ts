/**
 * The change feed over Redis pub/sub (MEMER_SYNC=redis, or auto with REDIS_URL): works through PostgreSQL poolers
 * that cannot hold a LISTEN session, and costs the database nothing. Two connections per replica (a subscribed one
 * can only subscribe); ioredis reconnects and resubscribes by itself, and each time it is back the replica refreshes
 * (it may have missed notifications). The channel is not scoped by database: replicas of several deployments sharing
 * one Redis refresh on each other's notifications too, which costs a refresh each, nothing else.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger.js';
import { ChangeFeed, type OnChange } from './change-feed.js';

export const REDIS_CHANNEL = 'memer:changes';

export class RedisChangeFeed extends ChangeFeed {
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private subscribed = false;
  private everSubscribed = false;
  /** The SUBSCRIBE of the current connection. */
  private subscribing: Promise<void> = Promise.resolve();

  constructor(url: string, logger: Logger, onChange: OnChange) {
    super('redis', logger, onChange);
    const unavailable = (err: unknown) => this.warn('change feed: Redis unavailable (replicas poll meanwhile)', err);
    this.publisher = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000 });
    // ioredis reconnects by itself; each connection subscribes here (not autoResubscribe: a first SUBSCRIBE that
    // failed would never be repeated).
    this.subscriber = new Redis(url, { lazyConnect: true, autoResubscribe: false, maxRetriesPerRequest: null });
    this.publisher.on('error', unavailable);
    this.subscriber.on('error', unavailable);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === REDIS_CHANNEL) this.deliver(message);
    });
    this.subscriber.on('close', () => (this.subscribed = false));
    this.subscriber.on('ready', () => {
      this.subscribing = this.subscriber.subscribe(REDIS_CHANNEL).then(
        () => {
          this.subscribed = true;
          if (this.everSubscribed) {
            this.logger.info('change feed listening again', { transport: this.transport });
            this.resync();
          }
          this.everSubscribed = true;
        },
        unavailable,
      );
    });
  }

  get connected(): boolean {
    return this.subscribed;
  }

  async start(): Promise<void> {
    const unavailable = (err: unknown) => this.warn('change feed: Redis unavailable (replicas poll meanwhile)', err);
    await Promise.all([this.publisher.connect().catch(unavailable), this.subscriber.connect().catch(unavailable)]);
    await this.subscribing;
  }

  protected async send(payload: string): Promise<void> {
    await this.publisher.publish(REDIS_CHANNEL, payload);
  }

  protected async disconnect(): Promise<void> {
    for (const r of [this.subscriber, this.publisher]) {
      try {
        await r.quit();
      } catch {
        r.disconnect();
      }
    }
  }
}
