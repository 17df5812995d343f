/**
 * A stream of writes against a live server, and what it saw acknowledged: registerPost, registerPosts batches and
 * recordInteractions batches from a few concurrent clients until the server goes away (a stop, a kill -9). A write is
 * acknowledged when its response arrived with data and no error; one whose connection failed has an unknown outcome
 * and is kept as pending (a batch is all or nothing, so each pending batch must be found whole or not at all).
 * `verify` checks the database against the ledger.
 */
import type { Db } from '../../src/data/db.js';
import { features } from '../helpers/harness.js';
import { gql, MODEL_SIGNALS, rng } from './live-server.js';

type Media = 'VIDEO' | 'IMAGE';

export interface Ledger {
  /** Acknowledged posts by id. */
  posts: Map<string, Media>;
  /** Registrations sent whose answer never came: each batch exists whole or not at all. */
  pendingPosts: { id: string; media: Media }[][];
  /** Acknowledged interaction batches: each has a user of its own, with this many interactions. */
  interactions: Map<string, number>;
  pendingInteractions: Map<string, number>;
  /** Answers that were neither an acknowledgement nor a failed connection (there should be none). */
  unexpected: string[];
  /** Writes acknowledged in all. */
  acked: number;
}

export const emptyLedger = (): Ledger => ({ posts: new Map(), pendingPosts: [], interactions: new Map(), pendingInteractions: new Map(), unexpected: [], acked: 0 });

const REGISTER = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { signal source } } }';
const REGISTER_MANY = 'mutation($i: [RegisterPostInput!]!) { registerPosts(inputs: $i) { id } }';
const RECORD = 'mutation($i: [InteractionInput!]!) { recordInteractions(inputs: $i) { recorded } }';

function postInput(id: string, media: Media, seed: number) {
  const f = media === 'VIDEO' ? { visual: features(8, seed), audio: features(4, seed + 1), text: features(3, seed + 2) } : { visual: features(6, seed), text: features(3, seed + 2) };
  return { id, mediaType: media, tags: [`t${seed % 7}`], text: `post ${id}`, features: f };
}

export interface StreamOptions {
  /** Unique per run: ids and users are made from it. */
  prefix: string;
  seed: number;
  workers?: number;
  /** Called after each acknowledgement (e.g. to kill the server after some). */
  onAck?: (ledger: Ledger) => void;
}

/** Runs until every worker has seen its connection fail (the server is gone). */
export async function writeStream(url: string, key: string, ledger: Ledger, { prefix, seed, workers = 6, onAck }: StreamOptions): Promise<void> {
  const random = rng(seed);
  let n = 0;
  const worker = async (w: number) => {
    for (;;) {
      const op = random();
      const known = [...ledger.posts.keys()];
      let pending: () => void;
      let ack: () => void;
      let send: () => Promise<Awaited<ReturnType<typeof gql>>>;
      if (op < 0.4 && known.length > 0) {
        const user = `${prefix}-u${w}-${n++}`;
        const size = 1 + Math.floor(random() * 30);
        const inputs = Array.from({ length: size }, () => ({ userId: user, postId: known[Math.floor(random() * known.length)], signal: random() < 0.7 ? 'click' : 'like', label: random() < 0.8 ? 1 : 0 }));
        send = () => gql(url, key, RECORD, { i: inputs });
        ack = () => ledger.interactions.set(user, size);
        pending = () => ledger.pendingInteractions.set(user, size);
      } else {
        const size = op < 0.7 ? 1 : 2 + Math.floor(random() * 5);
        const batch = Array.from({ length: size }, () => ({ id: `${prefix}-p${n++}`, media: (random() < 0.8 ? 'VIDEO' : 'IMAGE') as Media }));
        const inputs = batch.map((p, i) => postInput(p.id, p.media, n + i));
        send = () => (size === 1 ? gql(url, key, REGISTER, { i: inputs[0] }) : gql(url, key, REGISTER_MANY, { i: inputs }));
        ack = () => batch.forEach((p) => ledger.posts.set(p.id, p.media));
        pending = () => ledger.pendingPosts.push(batch);
      }
      let answer;
      try {
        answer = await send();
      } catch {
        pending();
        return;
      }
      if (answer.status === 200 && answer.body.data && !answer.body.errors) {
        ack();
        ledger.acked++;
        onAck?.(ledger);
      } else {
        pending();
        ledger.unexpected.push(`${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
}

const count = async (db: Db, sql: string, ...params: unknown[]): Promise<number> => {
  const rows = await db.prisma.$queryRawUnsafe<{ n: number | bigint }[]>(sql, ...params);
  return Number(rows[0].n);
};

/** What the database holds that contradicts the ledger (empty: nothing). */
export async function verify(db: Db, ledger: Ledger, { vectors }: { vectors: boolean }): Promise<string[]> {
  const problems: string[] = [];
  const { prisma } = db;
  const ids = [...ledger.posts.keys()];
  const stored = await prisma.post.findMany({
    where: { externalId: { in: ids } },
    select: { externalId: true, mediaType: true, features: { select: { modality: true } }, embeddings: { where: { source: 'MEMER' }, select: { signal: { select: { name: true } } } } },
  });
  const byId = new Map(stored.map((p) => [p.externalId, p]));
  for (const [id, media] of ledger.posts) {
    const p = byId.get(id);
    if (!p) problems.push(`acknowledged post ${id} is missing`);
    else if (p.features.length !== (media === 'VIDEO' ? 3 : 2)) problems.push(`post ${id} has ${p.features.length} feature rows`);
  }
  for (const batch of ledger.pendingPosts) {
    const found = await prisma.post.count({ where: { externalId: { in: batch.map((p) => p.id) } } });
    if (found !== 0 && found !== batch.length) problems.push(`a registration batch was written in part: ${found} of ${batch.length} (${batch[0].id}...)`);
  }
  if (vectors) {
    // Every VIDEO post, acknowledged or not, has the MEMER vector of each active model: none without its vectors.
    const video = await prisma.post.findMany({ where: { mediaType: 'VIDEO' }, select: { externalId: true, embeddings: { where: { source: 'MEMER' }, select: { signal: { select: { name: true } } } } } });
    for (const p of video) {
      const have = new Set(p.embeddings.map((e) => e.signal.name));
      const lacking = MODEL_SIGNALS.filter((s) => !have.has(s));
      if (lacking.length) problems.push(`post ${p.externalId} exists without its ${lacking.join(', ')} MEMER vector`);
    }
  }
  const users = [...ledger.interactions.keys(), ...ledger.pendingInteractions.keys()];
  const rows = await prisma.interaction.groupBy({ by: ['userId'], where: { user: { externalId: { in: users } } }, _count: { _all: true } });
  const keys = await prisma.user.findMany({ where: { externalId: { in: users } }, select: { id: true, externalId: true } });
  const countOf = new Map(rows.map((r) => [keys.find((k) => k.id === r.userId)!.externalId, r._count._all]));
  for (const [user, n] of ledger.interactions) if ((countOf.get(user) ?? 0) !== n) problems.push(`acknowledged batch of ${user}: ${countOf.get(user) ?? 0} of ${n} interactions stored`);
  for (const [user, n] of ledger.pendingInteractions) {
    const got = countOf.get(user) ?? 0;
    if (got !== 0 && got !== n) problems.push(`an interaction batch was written in part: ${got} of ${n} (${user})`);
  }
  // The per post and signal counts agree with the rows behind them (same transaction).
  const drift = await count(
    db,
    `SELECT COUNT(*) AS n FROM "PostSignalStat" s WHERE s."total" <> (SELECT COUNT(*) FROM "Interaction" i WHERE i."postId" = s."postId" AND i."signalId" = s."signalId")
       OR s."positives" <> (SELECT COALESCE(SUM(i."label"), 0) FROM "Interaction" i WHERE i."postId" = s."postId" AND i."signalId" = s."signalId")`,
  );
  if (drift) problems.push(`${drift} post and signal statistics disagree with their interactions`);
  const orphans = await count(db, `SELECT COUNT(*) AS n FROM "Interaction" i WHERE NOT EXISTS (SELECT 1 FROM "PostSignalStat" s WHERE s."postId" = i."postId" AND s."signalId" = i."signalId")`);
  if (orphans) problems.push(`${orphans} interactions without statistics`);
  return problems;
}
