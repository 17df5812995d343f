/** The model registry as stored: versions, their kind, status, metrics and whether they are active. */
import type { Prisma } from '../../data/db.js';
import type { MediaType } from '../types.js';

export interface ModelRecord {
  version: string;
  kind: 'FFM' | 'MEMER';
  signal: string | null;
  mediaType: MediaType | null;
  /** Always READY: a version is registered once its artefacts are written. */
  status: 'READY';
  metrics: Record<string, unknown>;
  artefact: string;
  active: boolean;
  createdAt: Date;
  activatedAt: Date | null;
}

export class ModelsService {
  constructor(private readonly prisma: Prisma) {}

  async list(filter: { signal?: string | null; activeOnly?: boolean | null } = {}): Promise<ModelRecord[]> {
    const rows = await this.prisma.modelVersion.findMany({
      where: { ...(filter.signal ? { signal: { name: filter.signal } } : {}), ...(filter.activeOnly ? { active: true } : {}) },
      orderBy: { id: 'desc' },
      include: { signal: { select: { name: true } } },
    });
    return rows.map((r) => ({
      version: r.version,
      kind: r.kind,
      signal: r.signal?.name ?? null,
      mediaType: r.mediaType,
      status: r.status,
      metrics: JSON.parse(r.metrics) as Record<string, unknown>,
      artefact: r.artefact,
      active: r.active,
      createdAt: r.createdAt,
      activatedAt: r.activatedAt,
    }));
  }
}
