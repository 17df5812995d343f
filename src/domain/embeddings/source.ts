/**
 * The AUTO rule, in one place (used per post by GraphQL and in bulk by the recommendation index): MATURE once the post
 * crossed the maturity threshold and a mature embedding exists; else MEMER; else TAG_AVG; else GLOBAL_AVG; else none.
 */
import type { EmbeddingSource } from '../types.js';

export interface Available {
  matureStage: boolean;
  mature: boolean;
  memer: boolean;
  tagAvg: boolean;
  globalAvg: boolean;
}

export function autoSource(a: Available): EmbeddingSource | null {
  if (a.matureStage && a.mature) return 'MATURE';
  if (a.memer) return 'MEMER';
  if (a.tagAvg) return 'TAG_AVG';
  if (a.globalAvg) return 'GLOBAL_AVG';
  return null;
}
