/** A row of the refresh window: a post key and the row's time stamp in ms. */
export interface Stamped {
  key: number;
  at: number;
}

/**
 * Rows an index already reflects, grouped by time stamp (ms) -> post keys. Grouping by stamp is what makes a refresh
 * cheap: one group commit writes all its rows under one stamp, so the database can answer "how many rows carry
 * stamp t" in one index-only GROUP BY, and a stamp whose count equals the keys seen under it needs no read at all.
 */
export class SeenStamps {
  private readonly byStamp = new Map<number, Set<number>>();

  add(rows: readonly Stamped[]): void {
    for (const r of rows) {
      let keys = this.byStamp.get(r.at);
      if (!keys) this.byStamp.set(r.at, (keys = new Set()));
      keys.add(r.key);
    }
  }

  has(row: Stamped): boolean {
    return this.byStamp.get(row.at)?.has(row.key) ?? false;
  }

  /** Keys seen under the stamp. */
  count(at: number): number {
    return this.byStamp.get(at)?.size ?? 0;
  }

  /** Forgets stamps at or before `t`: the next refresh window starts after it. */
  forgetUpTo(t: number): void {
    for (const at of this.byStamp.keys()) if (at <= t) this.byStamp.delete(at);
  }
}
