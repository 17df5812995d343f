/**
 * `memer bench replicas`: how soon an upload on one replica is recommendable on another. Two `memer serve` child
 * processes on one throwaway PostgreSQL database (seeded by seedReplicas, below); uploads (`registerPost`) on replica A
 * at random intervals, and replica B's `recommendations` polled every `pollMs` until each appears: the time from A's
 * acknowledgement to B's first answer that holds the post, p50 / p99 / max, per transport of the change feed
 * (MEMER_SYNC=postgres: LISTEN/NOTIFY; redis: pub/sub, when a Redis answers at redisUrl), with the polling-only
 * figure (MEMER_SYNC=off, MEMER_REFRESH_MS at its default) as the baseline, in the same run.
 * Parameters (--set): uploads=60 (per transport)  pollMs=10  minGap=50 maxGap=250 (ms between uploads, uniform)
 *   refreshMs=2000 (the servers' poll)  pgAdmin=postgresql://postgres@127.0.0.1:5432/postgres
 *   redisUrl=redis://127.0.0.1:6379 (REDIS_URL when set)  transports=postgres,redis,off
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scratchDatabase } from '../data/scratch-database.js';
import { BenchArgError, percentile, positiveArg, startServeChild, stopServeChild, withBaseline, type Bench, type BenchResult } from './harness.js';
import { openDatabase } from '../data/db.js';
import { migrate } from '../data/migrate.js';
import { KeysService } from '../domain/keys/keys.service.js';
import { vectorToBytes } from '../lib/vectors.js';

export const REPLICA_DIM = 4;
export const RECOMMEND = `query Propagation { recommendations(userId: "u0", signal: "click", first: 500, stage: EARLY) { post { id } } }`;
export const UPLOAD = `mutation Upload($id: ID!) { registerPost(input: {id: $id, mediaType: IMAGE, tags: ["t"]}) { id } }`;

/**
 * The database two replicas serve in `memer bench replicas` and test/server/replicas.test.ts: a user with a click
 * embedding (so the replicas build the click index) and a few posts with MATURE click embeddings under the tag "t",
 * so that an upload tagged "t", without features, is served by its tag average and is in the index at once; a write
 * key and an admin key.
 */
export async function seedReplicas(url: string): Promise<{ writeKey: string; adminKey: string }> {
  await migrate(url);
  const db = await openDatabase(url);
  try {
    const p = db.prisma;
    const click = await p.signal.findUniqueOrThrow({ where: { name: 'click' } });
    const user = await p.user.create({ data: { externalId: 'u0' } });
    await p.userEmbedding.create({ data: { userId: user.id, signalId: click.id, dim: REPLICA_DIM, vector: vectorToBytes(Float32Array.of(0.5, -0.2, 0.1, 0.3)) } });
    for (let i = 0; i < 3; i++) {
      const post = await p.post.create({ data: { externalId: `seed-${i}`, mediaType: 'IMAGE', createdAt: new Date(), payloadHash: '', tags: { create: [{ tag: 't' }] } } });
      await p.postEmbedding.create({ data: { postId: post.id, signalId: click.id, source: 'MATURE', dim: REPLICA_DIM, vector: vectorToBytes(Float32Array.of(i, 1, -i, 0.5)) } });
    }
    const keys = new KeysService(p);
    return { writeKey: (await keys.create(['write'], 'replicas')).key, adminKey: (await keys.create(['admin'], 'replicas admin')).key };
  } finally {
    await db.close();
  }
}


async function graphql(url: string, query: string, variables: Record<string, unknown> = {}, key?: string): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const reachable = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port || 6379), hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

interface Run {
  uploads: number;
  pollMs: number;
  minGap: number;
  maxGap: number;
}

/** Propagation times (ms) of `run.uploads` uploads on A, seen on B. */
async function measure(a: string, b: string, key: string, prefix: string, run: Run, log: (l: string) => void): Promise<number[]> {
  const pending = new Map<string, number>();
  const times: number[] = [];
  let uploading = true;
  const poller = (async () => {
    while (uploading || pending.size) {
      const t = performance.now();
      const ids = new Set<string>((await graphql(b, RECOMMEND)).recommendations.map((r: { post: { id: string } }) => r.post.id));
      const seen = performance.now();
      for (const [id, ackAt] of pending) {
        if (!ids.has(id)) {
          if (seen - ackAt > 15_000) throw new Error(`${id} was not recommended by the other replica within 15 s`);
          continue;
        }
        times.push(seen - ackAt);
        pending.delete(id);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, run.pollMs - (performance.now() - t))));
    }
  })();
  try {
    for (let i = 0; i < run.uploads; i++) {
      await new Promise((r) => setTimeout(r, run.minGap + Math.random() * (run.maxGap - run.minGap)));
      const id = `${prefix}-${i}`;
      await graphql(a, UPLOAD, { id }, key);
      pending.set(id, performance.now());
      if ((i + 1) % 20 === 0) log(`  ${i + 1} / ${run.uploads} uploads`);
    }
  } finally {
    uploading = false;
  }
  await poller;
  return times;
}

export const bench: Bench = {
  summary: 'how soon an upload on one replica is recommendable on another: change feed (LISTEN/NOTIFY, Redis) vs polling',
  async run(args, log) {
    const run: Run = { uploads: positiveArg(args, 'uploads', 60, true), pollMs: positiveArg(args, 'pollMs', 10), minGap: positiveArg(args, 'minGap', 50), maxGap: positiveArg(args, 'maxGap', 250) };
    if (run.maxGap < run.minGap) throw new BenchArgError('--set maxGap must be at least minGap');
    const refreshMs = positiveArg(args, 'refreshMs', 2000, true);
    const redisUrl = args.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const transports = (args.transports ?? 'postgres,redis,off').split(',').filter(Boolean);
    for (const t of transports) if (!['postgres', 'redis', 'off'].includes(t)) throw new BenchArgError(`--set transports: "${t}" is not postgres, redis or off`);
    const scratch = await scratchDatabase('postgresql', args.pgAdmin ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
    const modelDir = mkdtempSync(join(tmpdir(), 'memer-bench-replicas-'));
    const figures = new Map<string, number[]>();
    try {
      const { writeKey } = await seedReplicas(scratch.url);
      for (const transport of transports) {
        if (transport === 'redis' && !(await reachable(redisUrl))) {
          log(`no Redis at ${redisUrl}: skipping the redis transport`);
          continue;
        }
        const env = { DATABASE_URL: scratch.url, MEMER_MODEL_DIR: modelDir, MEMER_SYNC: transport, MEMER_REFRESH_MS: String(refreshMs), ...(transport === 'redis' ? { REDIS_URL: redisUrl } : {}) };
        log(`${transport}: starting two replicas...`);
        const [a, b] = await Promise.all([startServeChild(env), startServeChild(env)]);
        try {
          // Warm up both (connections, V8) before measuring.
          await measure(a.url, b.url, writeKey, `warm-${transport}`, { ...run, uploads: 5 }, () => undefined);
          log(`${transport}: ${run.uploads} uploads on A, B polled every ${run.pollMs} ms...`);
          figures.set(transport, await measure(a.url, b.url, writeKey, transport, run, log));
        } finally {
          await Promise.all([stopServeChild(a.child), stopServeChild(b.child)]);
        }
      }
    } finally {
      rmSync(modelDir, { recursive: true, force: true });
      await scratch.drop();
    }
    const results: BenchResult[] = [];
    const polling = figures.get('off');
    const label = { postgres: 'LISTEN/NOTIFY', redis: 'Redis pub/sub', off: `polling only (MEMER_REFRESH_MS=${refreshMs})` } as Record<string, string>;
    for (const [transport, times] of figures) {
      for (const p of [50, 99, 100]) {
        const name = `upload on A recommendable on B, ${label[transport]}: ${p === 100 ? 'max' : `p${p}`}`;
        const baseline = transport !== 'off' && polling ? { name: `polling only ${p === 100 ? 'max' : `p${p}`}`, value: percentile(polling, p) } : undefined;
        results.push(withBaseline({ name, value: percentile(times, p), unit: 'ms' }, baseline));
      }
    }
    return results;
  },
};
