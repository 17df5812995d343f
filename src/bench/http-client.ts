/**
 * A lean HTTP/1.1 keep-alive client for load generation, in the spirit of wrk: each request is written as one
 * pre-assembled string and the reply parsed just far enough to find its body (Content-Length framing, which the
 * server always sends). The bench's load generator shares the machine's two cores with the server it measures;
 * node:http spent ~0.4 ms of CPU per registerPost on its side, this ~0.1 ms, which leaves the server the CPU it
 * would have with its clients elsewhere. One request in flight per connection; connections are reused.
 */
import { connect, type Socket } from 'node:net';

interface Connection {
  socket: Socket;
  pending: { resolve: (body: string) => void; reject: (err: Error) => void } | null;
  buffer: Buffer;
  /** When its last reply arrived (performance.now()). */
  idleSince: number;
}

/**
 * Idle connections older than this are closed, not reused. Node's servers close a keep-alive connection after 5 s
 * idle; a request written just as the server closes one meets a reset (ECONNRESET), which is what failed a serve
 * bench once, when connections idle since an earlier level were picked up again.
 */
export const MAX_IDLE_MS = 4000;

const HEADER_END = Buffer.from('\r\n\r\n');

export class HttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly head: string;

  constructor(
    private readonly host: string,
    private readonly port: number,
    path: string,
    headers: Record<string, string> = {},
    private readonly maxIdleMs = MAX_IDLE_MS,
  ) {
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    this.head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\n${extra}`;
  }

  /** POSTs a JSON body; resolves with the reply body of a 2xx or 4xx reply (GraphQL errors come as either). */
  async post(body: string): Promise<string> {
    const conn = this.reusable() ?? (await this.open());
    return new Promise<string>((resolve, reject) => {
      conn.pending = { resolve, reject };
      conn.socket.write(`${this.head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  /** The most recently used idle connection; older ones past maxIdleMs are closed (the stack is oldest first). */
  private reusable(): Connection | undefined {
    const now = performance.now();
    const fresh = this.idle.findIndex((c) => now - c.idleSince <= this.maxIdleMs);
    for (const stale of this.idle.splice(0, fresh < 0 ? this.idle.length : fresh)) {
      this.all.delete(stale);
      stale.socket.destroy();
    }
    return this.idle.pop();
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      const conn: Connection = { socket, pending: null, buffer: Buffer.alloc(0), idleSince: 0 };
      socket.once('connect', () => {
        this.all.add(conn);
        resolve(conn);
      });
      socket.on('data', (chunk: Buffer) => this.receive(conn, chunk));
      socket.on('error', (err) => {
        reject(err);
        conn.pending?.reject(err);
        conn.pending = null;
      });
      socket.on('close', () => {
        // The server closes idle keep-alive connections (Node: after 5 s): forget this one.
        this.all.delete(conn);
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        conn.pending?.reject(new Error('connection closed by the server'));
        conn.pending = null;
      });
    });
  }

  private receive(conn: Connection, chunk: Buffer): void {
    conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
    const end = conn.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const header = conn.buffer.toString('latin1', 0, end);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(header);
    const pending = conn.pending;
    if (!length) {
      conn.socket.destroy();
      pending?.reject(new Error(`reply without Content-Length: ${header.split('\r\n')[0]}`));
      return;
    }
    const total = end + HEADER_END.length + Number(length[1]);
    if (conn.buffer.length < total) return;
    const body = conn.buffer.toString('utf8', end + HEADER_END.length, total);
    conn.buffer = conn.buffer.subarray(total);
    conn.pending = null;
    const status = Number(header.slice(9, 12));
    if (status >= 500) pending?.reject(new Error(`HTTP ${status}: ${body}`));
    else pending?.resolve(body);
    conn.idleSince = performance.now();
    this.idle.push(conn);
  }
}
