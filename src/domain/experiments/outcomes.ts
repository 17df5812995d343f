/**
 * Outcomes: the experiment's impressions joined to the interactions that followed them, aggregated per user (the
 * unit of randomisation, for the intervals) and per segment (all impressions, and each of the most shown tags: the
 * per-genre breakdown of the paper's Figure 3).
 *
 * Rules (docs/experiments.md#outcomes):
 * - Impressions: a user's CLIENT impressions (recordImpressions) replace their SERVED ones when they have any: the
 *   client knows what it displayed. Each row counts, so a post shown in two responses is two impressions.
 * - Attribution: a positive interaction (label 1) of the user with the post counts towards the latest of the user's
 *   impressions of that post at or before it, if it came within the attribution window after that impression; per
 *   impression and signal at most once (so a rate never exceeds 1). Interactions before any impression, or later
 *   than the window, count for nothing.
 */
import type { Prisma } from '../../data/db.js';
import type { MediaType } from '../types.js';
import { unpackPosts } from './experiment.types.js';

/** Exposure rows (responses) read per query. */
const PAGE = 10_000;
/** Ids bound per IN (...) list: SQLite allows 32,766 parameters, PostgreSQL 65,535. */
const IN_CHUNK = 10_000;
/** Tags broken down (Figure 3): the most shown ones. */
export const TAG_LIMIT = 30;

export interface UserOutcome {
  arm: number;
  /** Impressions of video and of image posts. */
  video: number;
  image: number;
  /** Impressions converted, per signal (in the order of `signals`). */
  conversions: Float64Array;
}

export interface Segment {
  /** null for all impressions, else the tag. */
  tag: string | null;
  impressions: number;
  users: Map<number, UserOutcome>;
}

export interface Outcomes {
  /** The signals counted, by key, in id order. */
  signals: { key: number; name: string; mediaTypes: MediaType[] }[];
  overall: Segment;
  tags: Segment[];
  /** CLIENT impressions counted, and SERVED ones replaced by them. */
  clientImpressions: number;
  replacedServed: number;
}

interface Impressions {
  user: number[];
  post: number[];
  arm: number[];
  at: number[];
  /** User index -> external id. */
  userIds: string[];
}

export async function collectOutcomes(
  prisma: Prisma,
  experimentKey: number,
  windowS: number,
  signals: Outcomes['signals'],
): Promise<Outcomes> {
  const { kept, clientImpressions, replacedServed } = await readImpressions(prisma, experimentKey);
  const n = kept.user.length;
  const posts = await postFacts(prisma, [...new Set(kept.post)]);
  const converted = await attribute(prisma, kept, windowS, signals);

  const signalIndex = signals.length;
  const overall: Segment = { tag: null, impressions: 0, users: new Map() };
  const byTag = new Map<string, Segment>();
  const add = (segment: Segment, i: number, media: MediaType) => {
    segment.impressions++;
    let u = segment.users.get(kept.user[i]);
    if (!u) segment.users.set(kept.user[i], (u = { arm: kept.arm[i], video: 0, image: 0, conversions: new Float64Array(signalIndex) }));
    if (media === 'VIDEO') u.video++;
    else u.image++;
    for (let s = 0; s < signalIndex; s++) u.conversions[s] += converted[i * signalIndex + s];
  };
  // Tags by impressions first, so that only the most shown ones are aggregated per user.
  const tagCounts = new Map<string, number>();
  for (let i = 0; i < n; i++) for (const tag of posts.get(kept.post[i])?.tags ?? []) tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);
  const topTags = [...tagCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TAG_LIMIT).map(([t]) => t);
  for (const tag of topTags) byTag.set(tag, { tag, impressions: 0, users: new Map() });
  for (let i = 0; i < n; i++) {
    const post = posts.get(kept.post[i]);
    if (!post) continue; // deleted since (impressions cascade with their post; a race at most)
    add(overall, i, post.mediaType);
    for (const tag of post.tags) {
      const segment = byTag.get(tag);
      if (segment) add(segment, i, post.mediaType);
    }
  }
  return { signals, overall, tags: topTags.map((t) => byTag.get(t)!), clientImpressions, replacedServed };
}

/** The experiment's impressions, a user's CLIENT ones replacing their SERVED ones. */
async function readImpressions(prisma: Prisma, experimentKey: number): Promise<{ kept: Impressions; clientImpressions: number; replacedServed: number }> {
  const userIndex = new Map<string, number>();
  const all = { user: [] as number[], post: [] as number[], arm: [] as number[], at: [] as number[], client: [] as boolean[] };
  const clientUsers = new Set<number>();
  for (let cursor = 0; ; ) {
    const rows = await prisma.experimentExposure.findMany({
      where: { experimentId: experimentKey, id: { gt: cursor } },
      orderBy: { id: 'asc' },
      take: PAGE,
      select: { id: true, userExternalId: true, arm: true, origin: true, servedAt: true, posts: true },
    });
    for (const r of rows) {
      let u = userIndex.get(r.userExternalId);
      if (u === undefined) userIndex.set(r.userExternalId, (u = userIndex.size));
      const at = r.servedAt.getTime();
      const client = r.origin === 'CLIENT';
      if (client) clientUsers.add(u);
      for (const post of unpackPosts(r.posts)) {
        all.user.push(u);
        all.post.push(post);
        all.arm.push(r.arm);
        all.at.push(at);
        all.client.push(client);
      }
    }
    if (rows.length < PAGE) break;
    cursor = rows[rows.length - 1].id;
  }
  const kept: Impressions = { user: [], post: [], arm: [], at: [], userIds: [...userIndex.keys()] };
  let clientImpressions = 0;
  let replacedServed = 0;
  for (let i = 0; i < all.user.length; i++) {
    if (clientUsers.has(all.user[i]) && !all.client[i]) {
      replacedServed++;
      continue;
    }
    if (all.client[i]) clientImpressions++;
    kept.user.push(all.user[i]);
    kept.post.push(all.post[i]);
    kept.arm.push(all.arm[i]);
    kept.at.push(all.at[i]);
  }
  return { kept, clientImpressions, replacedServed };
}

async function postFacts(prisma: Prisma, keys: number[]): Promise<Map<number, { mediaType: MediaType; tags: string[] }>> {
  const out = new Map<number, { mediaType: MediaType; tags: string[] }>();
  for (let i = 0; i < keys.length; i += IN_CHUNK) {
    const rows = await prisma.post.findMany({ where: { id: { in: keys.slice(i, i + IN_CHUNK) } }, select: { id: true, mediaType: true, tags: { select: { tag: true } } } });
    for (const r of rows) out.set(r.id, { mediaType: r.mediaType, tags: r.tags.map((t) => t.tag) });
  }
  return out;
}

/**
 * Per impression and signal, 1 when a positive interaction is attributed to it (row-major: impression x signal).
 * Reads the positive interactions of the experiment's users from the first impression to the last one plus the window.
 */
async function attribute(prisma: Prisma, imp: Impressions, windowS: number, signals: Outcomes['signals']): Promise<Uint8Array> {
  const n = imp.user.length;
  const converted = new Uint8Array(n * signals.length);
  if (n === 0) return converted;
  const signalSlot = new Map(signals.map((s, i) => [s.key, i]));
  // The impressions of each (user, post), in time order.
  const groups = new Map<string, number[]>();
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    const k = `${imp.user[i]}:${imp.post[i]}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(i);
    if (imp.at[i] < first) first = imp.at[i];
    if (imp.at[i] > last) last = imp.at[i];
  }
  for (const g of groups.values()) g.sort((a, b) => imp.at[a] - imp.at[b] || a - b);
  const windowMs = windowS * 1000;
  const userOf = new Map<number, number>(); // internal user key -> user index
  const externalIds = imp.userIds;
  for (let i = 0; i < externalIds.length; i += IN_CHUNK) {
    const chunk = externalIds.slice(i, i + IN_CHUNK);
    const users = await prisma.user.findMany({ where: { externalId: { in: chunk } }, select: { id: true, externalId: true } });
    const indexOf = new Map(chunk.map((id, j) => [id, i + j]));
    for (const u of users) userOf.set(u.id, indexOf.get(u.externalId)!);
  }
  const keys = [...userOf.keys()];
  for (let i = 0; i < keys.length; i += IN_CHUNK) {
    const interactions = await prisma.interaction.findMany({
      where: { userId: { in: keys.slice(i, i + IN_CHUNK) }, label: 1, timestamp: { gte: new Date(first), lte: new Date(last + windowMs) } },
      select: { userId: true, postId: true, signalId: true, timestamp: true },
    });
    for (const x of interactions) {
      const slot = signalSlot.get(x.signalId);
      const g = groups.get(`${userOf.get(x.userId)}:${x.postId}`);
      if (slot === undefined || !g) continue;
      const t = x.timestamp.getTime();
      // The latest impression at or before t.
      let lo = 0;
      let hi = g.length - 1;
      let at = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (imp.at[g[mid]] <= t) {
          at = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (at < 0 || t - imp.at[g[at]] > windowMs) continue;
      converted[g[at] * signals.length + slot] = 1;
    }
  }
  return converted;
}
