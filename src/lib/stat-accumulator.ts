/** Interactions folded into one statistics increment per post and signal (PostSignalStat: positives, total, first and last seen). */

export interface StatDelta {
  postKey: number;
  signalKey: number;
  positives: number;
  total: number;
  first: Date;
  last: Date;
}

export class StatAccumulator {
  private readonly groups = new Map<string, StatDelta>();

  add(postKey: number, signalKey: number, label: number, at: Date): void {
    const k = `${postKey}:${signalKey}`;
    const g = this.groups.get(k);
    if (!g) this.groups.set(k, { postKey, signalKey, positives: label, total: 1, first: at, last: at });
    else {
      g.positives += label;
      g.total += 1;
      if (at < g.first) g.first = at;
      if (at > g.last) g.last = at;
    }
  }

  get size(): number {
    return this.groups.size;
  }

  deltas(): StatDelta[] {
    return [...this.groups.values()];
  }
}
