/** SVG rendering of maturity curves (Figure 1): distance against views, epsilon and M as reference lines. */
import { lineChart, PALETTE, type RefLine } from '../../lib/plot/index.js';
import type { MaturityCurve } from './curve.js';

export interface MaturityPlotOptions {
  readonly title?: string;
  readonly width?: number;
  readonly height?: number;
  /** Logarithmic view axis (useful when view counts span decades). */
  readonly logViews?: boolean;
  /** Logarithmic distance axis: shows where the tail crosses a small epsilon (linear, from 0, by default). */
  readonly logDistance?: boolean;
}

export function maturityCurveSvg(curves: MaturityCurve | readonly MaturityCurve[], options: MaturityPlotOptions = {}): string {
  const list = Array.isArray(curves) ? (curves as readonly MaturityCurve[]) : [curves as MaturityCurve];
  const vLines: RefLine[] = list.flatMap((c, i) => (c.threshold === null ? [] : [{ value: c.threshold, label: `M = ${c.threshold.toLocaleString('en-US')}${list.length > 1 ? ` (${c.key})` : ''}`, color: PALETTE[i % PALETTE.length] }]));
  const epsilons = [...new Set(list.map((c) => c.epsilon))];
  return lineChart({
    title: options.title ?? `Embedding maturity curve${list.length === 1 ? ` (${list[0].key})` : ''}`,
    xLabel: 'views',
    yLabel: 'mean cosine distance between consecutive snapshots',
    width: options.width,
    height: options.height,
    xScale: options.logViews ? 'log' : 'linear',
    yScale: options.logDistance ? 'log' : 'linear',
    yMin: options.logDistance ? undefined : 0,
    series: list.map((c) => ({ name: c.key, x: c.views, y: c.distance })),
    hLines: epsilons.map((e) => ({ value: e, label: `epsilon = ${e}` })),
    vLines,
  });
}
