/**
 * Recording interactions. A batch is checked whole (known post, known signal that applies to the post's media type,
 * label 0 or 1, valid timestamp) before one transaction writes it: unknown users are created, the interaction rows are
 * inserted and the per post and signal statistics are incremented in the same transaction, so counts never disagree
 * with the rows behind them. Any bad element fails the whole batch with its index.
 */
import type { Config } from '../../config/config.js';
import type { Prisma, Tx } from '../../data/db.js';
import type { Provider } from '../../data/provider.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';
import { retryOnUniqueViolation } from '../../data/retry.js';
import { badInput } from '../../errors.js';
import { validateId } from '../posts/post.validation.js';
import { SignalsService } from '../signals/signals.service.js';
import { UsersService } from '../users/users.service.js';

export interface InteractionInput {
  userId: string;
  postId: string;
  signal: string;
  /** 1 positive (default), 0 explicit negative. */
  label?: number | null;
  timestamp?: Date | null;
}

export interface RecordResult {
  recorded: number;
  usersCreated: number;
  posts: number;
}

interface Row {
  userId: string;
  postKey: number;
  signalKey: number;
  label: number;
  timestamp: Date;
}

export class InteractionsService {
  constructor(
    private readonly prisma: Prisma,
    private readonly provider: Provider,
    private readonly config: Config,
  ) {}

  async record(inputs: InteractionInput[], now = new Date()): Promise<RecordResult> {
    if (inputs.length === 0) return { recorded: 0, usersCreated: 0, posts: 0 };
    if (inputs.length > this.config.maxBatch) throw badInput(`at most ${this.config.maxBatch} interactions per call, got ${inputs.length}`, { path: 'inputs' });
    const signals = new Map((await new SignalsService(this.prisma).all()).map((s) => [s.name, s]));
    const postIds = [...new Set(inputs.map((x) => x.postId))];
    const posts = await this.prisma.post.findMany({ where: { externalId: { in: postIds } }, select: { id: true, externalId: true, mediaType: true } });
    const postById = new Map(posts.map((p) => [p.externalId, p]));

    const rows: Row[] = inputs.map((x, i) => {
      const at = `inputs[${i}]`;
      validateId('user', x.userId, `${at}.userId`);
      const post = postById.get(x.postId);
      if (!post) throw badInput(`${at}.postId: unknown post ${JSON.stringify(x.postId)}`, { path: `${at}.postId`, index: i });
      const signal = signals.get(x.signal);
      if (!signal) throw badInput(`${at}.signal: unknown signal ${JSON.stringify(x.signal)} (known: ${[...signals.keys()].join(', ')})`, { path: `${at}.signal`, index: i });
      if (!signal.mediaTypes.includes(post.mediaType)) {
        throw badInput(`${at}.signal: ${signal.name} does not apply to ${post.mediaType} posts`, { path: `${at}.signal`, index: i });
      }
      const label = x.label ?? 1;
      if (label !== 0 && label !== 1) throw badInput(`${at}.label must be 0 or 1, got ${label}`, { path: `${at}.label`, index: i });
      const timestamp = x.timestamp ?? now;
      if (Number.isNaN(timestamp.getTime())) throw badInput(`${at}.timestamp is not a valid date`, { path: `${at}.timestamp`, index: i });
      return { userId: x.userId, postKey: post.id, signalKey: signal.key, label, timestamp };
    });

    return retryOnUniqueViolation(() =>
      this.prisma.$transaction(
        async (tx) => {
          const before = await tx.user.count({ where: { externalId: { in: [...new Set(rows.map((r) => r.userId))] } } });
          const users = await UsersService.ensure(tx as Tx, rows.map((r) => r.userId));
          await tx.interaction.createMany({
            data: rows.map((r) => ({ userId: users.get(r.userId)!, postId: r.postKey, signalId: r.signalKey, label: r.label, timestamp: r.timestamp })),
          });
          const groups = await this.bumpStats(tx as Tx, rows);
          return { recorded: rows.length, usersCreated: users.size - before, posts: groups };
        },
        { timeout: 60_000, maxWait: 30_000 },
      ),
    );
  }

  /** One INSERT .. ON CONFLICT for the batch; returns the number of distinct post and signal pairs touched. */
  private async bumpStats(tx: Tx, rows: Row[]): Promise<number> {
    const groups = new Map<string, { postKey: number; signalKey: number; positives: number; total: number; first: Date; last: Date }>();
    for (const r of rows) {
      const k = `${r.postKey}:${r.signalKey}`;
      const g = groups.get(k);
      if (!g) groups.set(k, { postKey: r.postKey, signalKey: r.signalKey, positives: r.label, total: 1, first: r.timestamp, last: r.timestamp });
      else {
        g.positives += r.label;
        g.total += 1;
        if (r.timestamp < g.first) g.first = r.timestamp;
        if (r.timestamp > g.last) g.last = r.timestamp;
      }
    }
    const [least, greatest] = this.provider === 'sqlite' ? ['MIN', 'MAX'] : ['LEAST', 'GREATEST'];
    const values = Sql.join([...groups.values()].map((g) => Sql.sql`(${g.postKey}, ${g.signalKey}, ${g.positives}, ${g.total}, ${g.first}, ${g.last})`));
    await tx.$executeRaw`
      INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen") VALUES ${values}
      ON CONFLICT ("postId", "signalId") DO UPDATE SET
        "positives" = "PostSignalStat"."positives" + excluded."positives",
        "total" = "PostSignalStat"."total" + excluded."total",
        "firstSeen" = ${Sql.raw(least)}("PostSignalStat"."firstSeen", excluded."firstSeen"),
        "lastSeen" = ${Sql.raw(greatest)}("PostSignalStat"."lastSeen", excluded."lastSeen")`;
    return groups.size;
  }
}
