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

export class SignalsService {
  constructor(private readonly prisma: Prisma) {}

  async all(): Promise<SignalRecord[]> {
    const rows = await this.prisma.signal.findMany({ orderBy: { id: 'asc' } });
    return rows.map(toSignalRecord);
  }
}
