/**
 * A dependency-free SVG line chart (axes, ticks, grid, legend, reference lines), for reports a person opens in a
 * browser: the maturity curve, evaluation plots. Output is one self-contained <svg> string.
 */
import { formatTick, logTicks, niceTicks } from './ticks.js';

export interface Series {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** CSS colour; defaults to a palette colour by position. */
  readonly color?: string;
  readonly dashed?: boolean;
  /** Draw a dot at each point. */
  readonly markers?: boolean;
}

/** A horizontal (y) or vertical (x) reference line with a label. */
export interface RefLine {
  readonly value: number;
  readonly label: string;
  readonly color?: string;
}

export interface LineChartSpec {
  readonly series: readonly Series[];
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Pixel size of the whole image. */
  readonly width?: number;
  readonly height?: number;
  readonly xScale?: 'linear' | 'log';
  /** A log y axis drops points with y <= 0 (distances that decay over decades read better on one). */
  readonly yScale?: 'linear' | 'log';
  /** Fixed axis bounds; by default they come from the data and reference lines. */
  readonly xMin?: number;
  readonly xMax?: number;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly hLines?: readonly RefLine[];
  readonly vLines?: readonly RefLine[];
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'] as const;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

interface Axis {
  ticks: number[];
  lo: number;
  hi: number;
  /** Position in [0, 1] of a value. */
  t(v: number): number;
}

function axis(lo: number, hi: number, log: boolean, fixedMin: number | undefined, fixedMax: number | undefined, count: number): Axis {
  const ticks = log ? logTicks(fixedMin ?? lo, fixedMax ?? hi) : niceTicks(fixedMin ?? lo, fixedMax ?? hi, count);
  const a = fixedMin ?? ticks[0];
  const b = fixedMax ?? ticks[ticks.length - 1];
  const t = log ? (v: number) => (Math.log10(v) - Math.log10(a)) / (Math.log10(b) - Math.log10(a)) : (v: number) => (v - a) / (b - a);
  return { ticks, lo: Math.min(a, b), hi: Math.max(a, b), t };
}

/** Renders the chart. Points with a non-finite coordinate (or <= 0 on a log axis) break the line there. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 420;
  const log = spec.xScale === 'log';
  const ylog = spec.yScale === 'log';
  for (const s of spec.series) {
    if (s.x.length !== s.y.length) throw new RangeError(`series "${s.name}": ${s.x.length} x values but ${s.y.length} y values`);
  }
  const usable = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!log || x > 0) && (!ylog || y > 0);
  // Data bounds (loops, not Math.min(...), so long series do not overflow the call stack).
  let xLo = Infinity, xHi = -Infinity, yLo = Infinity, yHi = -Infinity;
  const seeX = (x: number) => ((xLo = Math.min(xLo, x)), (xHi = Math.max(xHi, x)));
  const seeY = (y: number) => ((yLo = Math.min(yLo, y)), (yHi = Math.max(yHi, y)));
  for (const s of spec.series) {
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.x[i], s.y[i])) continue;
      seeX(s.x[i]);
      seeY(s.y[i]);
    }
  }
  for (const h of spec.hLines ?? []) if (Number.isFinite(h.value) && (!ylog || h.value > 0)) seeY(h.value);
  for (const v of spec.vLines ?? []) if (Number.isFinite(v.value) && (!log || v.value > 0)) seeX(v.value);
  if (xLo > xHi) [xLo, xHi] = log ? [1, 10] : [0, 1];
  if (yLo > yHi) [yLo, yHi] = ylog ? [1, 10] : [0, 1];
  const X = axis(xLo, xHi, log, spec.xMin, spec.xMax, 6);
  const Y = axis(yLo, yHi, ylog, ylog ? undefined : spec.yMin, spec.yMax, 5);

  const margin = { left: 70, right: 20, top: spec.title ? 44 : 20, bottom: 56 };
  const pw = width - margin.left - margin.right;
  const ph = height - margin.top - margin.bottom;
  const px = (x: number) => margin.left + pw * X.t(x);
  const py = (y: number) => margin.top + ph * (1 - Y.t(y));
  const inX = (x: number) => x >= X.lo && x <= X.hi && (!log || x > 0);
  const inY = (y: number) => y >= Y.lo && y <= Y.hi && (!ylog || y > 0);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (spec.title) out.push(`<text x="${fmt(width / 2)}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`);
  // Grid and ticks.
  for (const t of X.ticks) {
    if (!inX(t)) continue;
    const x = fmt(px(t));
    out.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${margin.top + ph + 18}" text-anchor="middle" fill="#333">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of Y.ticks) {
    if (!inY(t)) continue;
    const y = fmt(py(t));
    out.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  if (spec.xLabel) out.push(`<text x="${fmt(margin.left + pw / 2)}" y="${height - 14}" text-anchor="middle" font-size="13">${escapeXml(spec.xLabel)}</text>`);
  if (spec.yLabel) {
    const cy = fmt(margin.top + ph / 2);
    out.push(`<text x="18" y="${cy}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${cy})">${escapeXml(spec.yLabel)}</text>`);
  }
  // Reference lines.
  for (const h of spec.hLines ?? []) {
    if (!inY(h.value)) continue;
    const y = fmt(py(h.value));
    const c = h.color ?? '#777';
    out.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + pw}" y2="${y}" stroke="${c}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${margin.left + pw - 4}" y="${fmt(py(h.value) - 5)}" text-anchor="end" fill="${c}">${escapeXml(h.label)}</text>`);
  }
  // Vertical lines: labels stacked one per row so that close lines stay readable, and kept inside the frame.
  (spec.vLines ?? []).filter((v) => inX(v.value)).forEach((v, i) => {
    const x = px(v.value);
    const c = v.color ?? '#777';
    const right = x > margin.left + pw * 0.7;
    out.push(`<line x1="${fmt(x)}" y1="${margin.top}" x2="${fmt(x)}" y2="${margin.top + ph}" stroke="${c}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${fmt(right ? x - 5 : x + 5)}" y="${margin.top + 14 + 15 * i}"${right ? ' text-anchor="end"' : ''} fill="${c}">${escapeXml(v.label)}</text>`);
  });
  // Series, clipped to the plot area.
  out.push(`<clipPath id="plot-area"><rect x="${margin.left}" y="${margin.top}" width="${pw}" height="${ph}"/></clipPath>`);
  spec.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length];
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline clip-path="url(#plot-area)" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${run.join(' ')}"/>`);
      run = [];
    };
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.x[i], s.y[i])) {
        flush();
        continue;
      }
      run.push(`${fmt(px(s.x[i]))},${fmt(py(s.y[i]))}`);
      if (s.markers) out.push(`<circle clip-path="url(#plot-area)" cx="${fmt(px(s.x[i]))}" cy="${fmt(py(s.y[i]))}" r="2.5" fill="${color}"/>`);
    }
    flush();
  });
  // Legend (top right, inside the plot).
  if (spec.series.length > 1 || (spec.series.length === 1 && spec.series[0].name)) {
    const lx = margin.left + pw - 170;
    spec.series.forEach((s, si) => {
      const ly = margin.top + 26 + si * 18;
      const color = s.color ?? PALETTE[si % PALETTE.length];
      out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      out.push(`<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n');
}
