/**
 * A one-line progress display for long dataset commands: redrawn in place on stderr when it is a TTY (at most ~10
 * times a second), silent otherwise, so piped output and --json stay clean.
 */
export interface Progress {
  /** Reports `done` of `total` for a stage; the line shows the stage and a percentage. */
  update(stage: string, done: number, total: number): void;
  /** Clears the line. */
  end(): void;
}

export function ttyProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, end() {} };
  let last = 0;
  let shown = false;
  const t0 = performance.now();
  return {
    update(stage, done, total) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
      stream.write(`\r\x1b[K${label}: ${stage} ${pct}% (${((now - t0) / 1000).toFixed(1)} s)`);
    },
    end() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
