/** Signals are data (seeded with the paper's six by migration 0002); this reads them. */
import type { Prisma } from '../../data/db.js';
import type { MediaType, SignalRecord } from '../types.js';

type SignalRow = { id: number; name: string; kind: SignalRecord['kind']; appliesToVideo: boolean; appliesToImage: boolean; description: string };

export function toSignalRecord(row: SignalRow): SignalRecord {
  const mediaTypes: MediaType[] = [];
  if (row.appliesToVideo) mediaTypes.push('VIDEO');
  if (row.appliesToImage) mediaTypes.push('IMAGE');
  return { key: row.id, name: row.name, kind: row.kind, mediaTypes, description: row.description };
}

/** The maturity curve `memer train` estimated for a signal and media type, with its threshold M. */
export interface MaturityCurveRecord {
  threshold: number;
  epsilon: number | null;
  views: number[];
  distance: (number | null)[];
  count: number[];
  computedAt: Date;
}

export class SignalsService {
  constructor(private readonly prisma: Prisma) {}

  async all(): Promise<SignalRecord[]> {
    const rows = await this.prisma.signal.findMany({ orderBy: { id: 'asc' } });
    return rows.map(toSignalRecord);
  }

  /** The stored maturity curve of a signal (by key) and media type; null until training has estimated one. */
  async maturityCurve(signalKey: number, mediaType: MediaType): Promise<MaturityCurveRecord | null> {
    const row = await this.prisma.maturityThreshold.findUnique({ where: { signalId_mediaType: { signalId: signalKey, mediaType } } });
    if (!row) return null;
    const curve = JSON.parse(row.curve) as { views?: number[]; distance?: (number | null)[]; count?: number[]; epsilon?: number };
    return {
      threshold: row.threshold,
      epsilon: curve.epsilon ?? null,
      views: curve.views ?? [],
      distance: curve.distance ?? [],
      count: curve.count ?? [],
      computedAt: row.computedAt,
    };
  }
}
