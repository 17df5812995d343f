/** Users, addressed by the client's own ids. Unknown users seen in interactions are created on the fly. */
import type { Config } from '../../config/config.js';
import type { Prisma } from '../../data/db.js';
import { retryTransaction } from '../../data/retry.js';
import { badInput } from '../../errors.js';
import { checkFirst, decodeCursor, toPage, type Page } from '../pagination.js';
import { validateId } from '../posts/post.validation.js';
import type { UserRecord } from '../types.js';

export interface UserInput {
  id: string;
  /** JSON object of attributes; replaces the stored one. */
  attributes?: Record<string, unknown> | null;
}

type UserRow = { id: number; externalId: string; attributes: string; createdAt: Date };

function toUserRecord(row: UserRow): UserRecord {
  return { key: row.id, id: row.externalId, attributes: JSON.parse(row.attributes) as Record<string, unknown>, createdAt: row.createdAt };
}

const MAX_ATTRIBUTES_BYTES = 16_384;
/** Deeper nesting has no use in user attributes, and 100,000 levels overflowed JSON.stringify (INTERNAL_SERVER_ERROR). */
export const MAX_ATTRIBUTES_DEPTH = 32;

/** How deep `value` nests (1 for a flat object), walked without recursion; stops counting past `max`. */
function depthOf(value: unknown, max: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > max) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export class UsersService {
  constructor(
    private readonly prisma: Prisma,
    private readonly config: Config,
  ) {}

  async upsert(inputs: UserInput[]): Promise<UserRecord[]> {
    if (inputs.length > this.config.maxBatch) throw badInput(`at most ${this.config.maxBatch} users per call, got ${inputs.length}`, { path: 'inputs' });
    const prepared = inputs.map((u, i) => {
      validateId('user', u.id, `inputs[${i}].id`);
      const attrs = u.attributes ?? {};
      if (typeof attrs !== 'object' || Array.isArray(attrs)) throw badInput('attributes must be a JSON object', { path: `inputs[${i}].attributes` });
      if (depthOf(attrs, MAX_ATTRIBUTES_DEPTH) > MAX_ATTRIBUTES_DEPTH) throw badInput(`attributes nest deeper than ${MAX_ATTRIBUTES_DEPTH} levels`, { path: `inputs[${i}].attributes` });
      const json = JSON.stringify(attrs);
      if (json.length > MAX_ATTRIBUTES_BYTES) throw badInput(`attributes exceed ${MAX_ATTRIBUTES_BYTES} bytes`, { path: `inputs[${i}].attributes` });
      return { externalId: u.id, attributes: json, given: u.attributes != null };
    });
    await retryTransaction(() =>
      this.prisma.$transaction(async (tx) => {
        for (const u of prepared) {
          await tx.user.upsert({
            where: { externalId: u.externalId },
            create: { externalId: u.externalId, attributes: u.attributes },
            update: u.given ? { attributes: u.attributes } : {},
          });
        }
      }),
    );
    const rows = await this.prisma.user.findMany({ where: { externalId: { in: prepared.map((u) => u.externalId) } } });
    const byId = new Map(rows.map((r) => [r.externalId, toUserRecord(r)]));
    return prepared.map((u) => byId.get(u.externalId)!);
  }

  async byIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const rows = await this.prisma.user.findMany({ where: { externalId: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.externalId, toUserRecord(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Ordered by id. */
  async list(first: number, after?: string | null): Promise<Page<UserRecord>> {
    checkFirst(first);
    const where = after ? { externalId: { gt: decodeCursor(after, ['string'])[0] as string } } : {};
    const rows = await this.prisma.user.findMany({ where, orderBy: { externalId: 'asc' }, take: first + 1 });
    return toPage(rows.map(toUserRecord), first, (u) => [u.id]);
  }
}
