/** TTY progress for trainPipeline (one line redrawn on stderr, silent when not a TTY) and its JSON summary. */
import type { PipelineEvent, PipelineResult } from './train.js';

export interface ProgressStream {
  isTTY?: boolean;
  write(s: string): unknown;
}

/** Pipeline events, plus the evaluation's per-group scoring step. */
export type ProgressEvent = PipelineEvent | { stage: 'evaluate'; key: string };

/** An onProgress callback that redraws one status line at most ~10 times a second. `end()` clears it. */
export function pipelineProgress(label: string, stream: ProgressStream = process.stderr): { onProgress: (e: ProgressEvent) => void; end: () => void } {
  if (!stream.isTTY) return { onProgress() {}, end() {} };
  const t0 = performance.now();
  let last = 0;
  let shown = false;
  const draw = (text: string, force = false) => {
    const t = performance.now();
    if (!force && t - last < 100) return;
    last = t;
    shown = true;
    stream.write(`\r\x1b[K${label}: ${text} (${((t - t0) / 1000).toFixed(0)} s)`);
  };
  return {
    onProgress(e) {
      switch (e.stage) {
        case 'ffm':
          draw(`FFM ${e.key} epoch ${e.epoch}/${e.epochs}${e.validLoss === null ? '' : ` valid loss ${e.validLoss.toFixed(4)}`}`);
          break;
        case 'maturity':
          draw(`M(${e.key}) = ${e.threshold} (${e.source})`, true);
          break;
        case 'memer':
          if (e.progress) draw(`MEMER ${e.key} epoch ${e.progress.epoch} batch ${e.progress.batch}/${e.progress.batches} loss ${e.progress.loss.toFixed(4)}`);
          else if (e.epoch) draw(`MEMER ${e.key} epoch ${e.epoch.epoch}${e.epoch.validation ? ` val auc ${e.epoch.validation.auc.toFixed(4)}` : ''}`, true);
          break;
        case 'done':
          draw(`${e.signal} done`, true);
          break;
        case 'evaluate':
          draw(`scoring ${e.key}`, true);
          break;
        default: {
          const never: never = e;
          draw(String((never as { stage: string }).stage));
        }
      }
    },
    end() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** JSON-friendly summary of a pipeline run: metrics, thresholds, model versions and timings, no arrays of weights. */
export function pipelineSummary(r: PipelineResult): Record<string, unknown> {
  return {
    layout: r.layout,
    timings: r.timings,
    signals: r.signals.map((s) => ({
      signal: s.signal,
      d: s.d,
      ffm: s.ffm,
      postsWithEmbedding: s.postMask.reduce((a, b) => a + b, 0),
      media: Object.fromEntries(
        Object.entries(s.media).map(([m, mm]) => [
          m,
          {
            threshold: { M: mm.threshold.threshold, source: mm.threshold.source, curveThreshold: mm.threshold.curveThreshold, snapshotEvery: mm.threshold.snapshotEvery, posts: mm.threshold.posts, maturePosts: mm.threshold.maturePosts },
            memer: mm.memer && { version: mm.memer.info.version, modalities: mm.memer.modalities, freqScale: mm.memer.freqScale, metrics: mm.memer.metrics, trials: mm.memer.trials.length, bytes: mm.memer.onnx.byteLength },
            memerSkipped: mm.memerSkipped,
          },
        ]),
      ),
    })),
  };
}
