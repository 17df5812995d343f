/**
 * The change feed over PostgreSQL LISTEN/NOTIFY: one dedicated connection per replica (not from a pool: LISTEN belongs
 * to a session, so it needs a session-level connection, not a transaction-mode pooler) listens on CHANNEL and also
 * sends the replica's notifications. PostgreSQL delivers a NOTIFY to every session of the database listening on the
 * channel once the sending transaction commits; ours are sent after the write's own commit. A lost connection is
 * retried with backoff, and once listening again the replica refreshes (it may have missed notifications).
 */
import pg from 'pg';
import type { Logger } from '../../lib/logger.js';
import { ChangeFeed, type OnChange } from './change-feed.js';

export const CHANNEL = 'memer_changes';
const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

export class PostgresChangeFeed extends ChangeFeed {
  private client: pg.Client | null = null;
  private listening = false;
  private retry: NodeJS.Timeout | null = null;
  private failures = 0;
  private everListened = false;

  constructor(
    private readonly url: string,
    logger: Logger,
    onChange: OnChange,
  ) {
    super('postgres', logger, onChange);
  }

  get connected(): boolean {
    return this.listening;
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    // keepAlive: a connection that died silently (a failover, a NAT timeout) is noticed, and retried.
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: 'memer-sync' });
    client.on('notification', (n) => {
      if (n.channel === CHANNEL) this.deliver(n.payload);
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed || this.client !== client) return;
    this.listening = true;
    this.failures = 0;
    if (this.everListened) {
      this.logger.info('change feed listening again', { transport: this.transport });
      this.resync();
    }
    this.everListened = true;
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = null;
    this.listening = false;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.warn('change feed: the LISTEN connection failed; retrying (replicas poll meanwhile)', err);
    const wait = BACKOFF_MS[Math.min(this.failures++, BACKOFF_MS.length - 1)];
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, wait);
    this.retry.unref();
  }

  protected async send(payload: string): Promise<void> {
    if (!this.client || !this.listening) throw new Error('not connected');
    await this.client.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
  }

  protected async disconnect(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    this.listening = false;
    if (!client) return;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    await client.end().catch(() => undefined);
  }
}
