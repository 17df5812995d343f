/**
 * API keys: `mk_<prefix>_<secret>`. Only sha256(secret) is stored (the secret is 256 random bits, so a slow hash adds
 * nothing); the prefix finds the row. Scopes nest: admin > write > read. Verified keys are remembered for a few
 * seconds so a busy client costs no query per request; a revocation therefore takes effect within KEY_CACHE_MS.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Prisma } from '../../data/db.js';
import { badInput, notFound } from '../../errors.js';
import { retryTransaction } from '../../data/retry.js';

export type Scope = 'read' | 'write' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];
const rank: Record<Scope, number> = { read: 1, write: 2, admin: 3 };
export const KEY_CACHE_MS = 5_000;

export function parseScope(s: string): Scope {
  if (!SCOPES.includes(s as Scope)) throw badInput(`unknown scope "${s}" (expected ${SCOPES.join(', ')})`);
  return s as Scope;
}

/** Whether a key holding `granted` may do what needs `needed`. */
export function allows(granted: readonly Scope[], needed: Scope): boolean {
  return granted.some((g) => rank[g] >= rank[needed]);
}

export interface KeyInfo {
  prefix: string;
  name: string;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

export class KeysService {
  private readonly verified = new Map<string, { scopes: Scope[]; until: number }>();

  constructor(private readonly prisma: Prisma) {}

  async create(scopes: Scope[], name = ''): Promise<{ key: string; info: KeyInfo }> {
    if (scopes.length === 0) throw badInput('a key needs at least one scope');
    const prefix = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row = await this.prisma.apiKey.create({ data: { prefix, hash: sha256(secret).toString('hex'), scopes: [...new Set(scopes)].join(','), name } });
    return { key: `mk_${prefix}_${secret}`, info: toInfo(row) };
  }

  async list(): Promise<KeyInfo[]> {
    return (await this.prisma.apiKey.findMany({ orderBy: { id: 'asc' } })).map(toInfo);
  }

  /** Keys ever created, revoked ones included. */
  async count(): Promise<number> {
    return this.prisma.apiKey.count();
  }

  async revoke(prefix: string): Promise<KeyInfo> {
    const row = await this.prisma.apiKey.findUnique({ where: { prefix } });
    if (!row) throw notFound(`no key with prefix ${prefix}`);
    const updated = row.revokedAt ? row : await this.prisma.apiKey.update({ where: { prefix }, data: { revokedAt: new Date() } });
    this.verified.clear();
    return toInfo(updated);
  }

  /** The scopes of a valid, unrevoked key; null for anything else. */
  async verify(key: string, now = Date.now()): Promise<Scope[] | null> {
    const hit = this.verified.get(key);
    if (hit && hit.until > now) return hit.scopes;
    const m = /^mk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(key);
    if (!m) return null;
    const row = await this.prisma.apiKey.findUnique({ where: { prefix: m[1] } });
    if (!row || row.revokedAt) return null;
    if (!timingSafeEqual(Buffer.from(row.hash, 'hex'), sha256(m[2]))) return null;
    const scopes = row.scopes.split(',') as Scope[];
    this.verified.set(key, { scopes, until: now + KEY_CACHE_MS });
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000) {
      // In a transaction: on SQLite a bare write would join (and share the fate of) another request's transaction.
      await retryTransaction(() => this.prisma.$transaction((tx) => tx.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } })));
    }
    return scopes;
  }
}

function toInfo(row: { prefix: string; name: string; scopes: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }): KeyInfo {
  return { prefix: row.prefix, name: row.name, scopes: row.scopes.split(',') as Scope[], createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}
