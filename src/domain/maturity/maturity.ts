/**
 * A post's maturity for a signal: views = interactions recorded for that post and signal; it is MATURE once views
 * reach the threshold M stored for the signal and the post's media type (estimated by `memer train` from the
 * maturity curve, Figure 1). With no threshold stored yet, every post is EARLY.
 */
export type MaturityStatus = 'EARLY' | 'MATURE';

export interface Maturity {
  status: MaturityStatus;
  views: number;
  positives: number;
  threshold: number | null;
  /** views / M, capped at 1; 0 without a threshold. */
  progress: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
}

export interface StatRow {
  positives: number;
  total: number;
  firstSeen: Date;
  lastSeen: Date;
}

export function maturityOf(stat: StatRow | null, threshold: number | null): Maturity {
  const views = stat?.total ?? 0;
  const mature = threshold !== null && views >= threshold;
  return {
    status: mature ? 'MATURE' : 'EARLY',
    views,
    positives: stat?.positives ?? 0,
    threshold,
    progress: threshold ? Math.min(1, views / threshold) : 0,
    firstSeen: stat?.firstSeen ?? null,
    lastSeen: stat?.lastSeen ?? null,
  };
}
