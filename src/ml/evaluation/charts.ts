/**
 * The evaluation report's charts as self-contained <svg> strings (the line charts and the generic forest plot come
 * from src/lib/plot): a grouped bar chart (AUC by method per signal, the per-tag comparison of the paper's Figure 3)
 * and the comparisons' forest plot (MEMER - baseline with its bootstrap interval, coloured by verdict).
 */
import { escapeXml, forestPlot, niceTicks, PALETTE } from '../../lib/plot/index.js';
import type { Comparison, Verdict } from './comparisons.js';
import type { Method } from './types.js';

export interface BarChartSpec {
  readonly title: string;
  /** One group per category (a signal, a tag). */
  readonly groups: readonly string[];
  /** One bar per series in every group; NaN leaves a gap. */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  readonly yLabel?: string;
  /** Lower end of the value axis (e.g. 0.5 for AUC); default: from the data. */
  readonly yMin?: number;
  readonly width?: number;
  readonly height?: number;
}

const f = (v: number) => (Math.round(v * 100) / 100).toString();

export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 900;
  const height = spec.height ?? 360;
  for (const s of spec.series) if (s.values.length !== spec.groups.length) throw new RangeError(`series "${s.name}" has ${s.values.length} values for ${spec.groups.length} groups`);
  const values = spec.series.flatMap((s) => s.values.filter(Number.isFinite));
  const lo = spec.yMin ?? Math.min(0, ...values);
  const hi = Math.max(lo + 1e-6, ...values);
  const ticks = niceTicks(lo, hi, 5);
  const y0 = spec.yMin ?? ticks[0];
  const y1 = ticks[ticks.length - 1];
  const m = { left: 64, right: 16, top: 40, bottom: 70 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const py = (v: number) => m.top + ph * (1 - (Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0));
  const groupW = pw / Math.max(1, spec.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, spec.series.length);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${f(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (const t of ticks) {
    if (t < y0 || t > y1) continue;
    out.push(`<line x1="${m.left}" y1="${f(py(t))}" x2="${m.left + pw}" y2="${f(py(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(py(t))}" text-anchor="end" dominant-baseline="middle" fill="#333">${escapeXml(String(Math.round(t * 1000) / 1000))}</text>`);
  }
  if (spec.yLabel) out.push(`<text x="16" y="${f(m.top + ph / 2)}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${f(m.top + ph / 2)})">${escapeXml(spec.yLabel)}</text>`);
  spec.groups.forEach((g, gi) => {
    const gx = m.left + gi * groupW + groupW * 0.1;
    spec.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!Number.isFinite(v)) return;
      const x = gx + si * barW;
      const top = py(v);
      out.push(`<rect x="${f(x)}" y="${f(top)}" width="${f(Math.max(1, barW - 1))}" height="${f(Math.max(0, py(y0) - top))}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeXml(`${g} / ${s.name}: ${v.toFixed(4)}`)}</title></rect>`);
    });
    out.push(`<text x="${f(gx + (barW * spec.series.length) / 2)}" y="${m.top + ph + 16}" text-anchor="middle" fill="#333">${escapeXml(g)}</text>`);
  });
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  spec.series.forEach((s, si) => {
    const x = m.left + (si % 4) * (pw / 4);
    const y = height - 30 + Math.floor(si / 4) * 14;
    out.push(`<rect x="${f(x)}" y="${y - 8}" width="10" height="10" fill="${PALETTE[si % PALETTE.length]}"/>`);
    out.push(`<text x="${f(x + 14)}" y="${y}" fill="#333">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Verdict colours of the forest plot and the verdict table: win green, loss red, tie grey; no verdict dark grey. */
export const VERDICT_COLOR: Record<Verdict | 'none', string> = { win: '#2ca02c', loss: '#d62728', tie: '#808080', none: '#444444' };

/** A number from a report (NaN and undefined intervals are null once the report went through JSON). */
export const finite = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** "+0.012" (signed, `digits` decimals), "–" for a non-finite value. */
export function signed(v: unknown, digits = 3): string {
  const x = finite(v);
  if (!Number.isFinite(x)) return '–';
  const s = x.toFixed(digits);
  return Number(s) === 0 ? (0).toFixed(digits) : x > 0 ? `+${s}` : s;
}

/** "+0.012 [+0.004, +0.021]" ("[–, –]" for an undefined interval). */
export function diffText(c: Pick<Comparison, 'diff' | 'ci'>, digits = 3): string {
  const ci = Array.isArray(c.ci) ? c.ci : [NaN, NaN];
  return `${signed(c.diff, digits)} [${signed(ci[0], digits)}, ${signed(ci[1], digits)}]`;
}

/** The verdict word of a comparison: its verdict, "insufficient", or "no verdict" (the interval is undefined). */
export function verdictText(c: Pick<Comparison, 'verdict' | 'insufficient'>): string {
  return c.insufficient ? 'insufficient' : (c.verdict ?? 'no verdict');
}

export interface ComparisonForestSpec {
  readonly title: string;
  /** The comparisons to draw (one metric); one row each, grouped by signal, baselines in the order given. */
  readonly comparisons: readonly Comparison[];
  /** Display name of a baseline. */
  readonly label?: (m: Method) => string;
  readonly baselineOrder?: readonly Method[];
  readonly xLabel?: string;
  readonly width?: number;
}

/**
 * Forest plot of MEMER - baseline per (signal, baseline): the point difference, its 95% interval, a zero line; win
 * green, loss red, tie grey; insufficient groups light grey with "insufficient"; an undefined interval draws the point
 * only.
 */
export function comparisonForest(spec: ComparisonForestSpec): string {
  const order = spec.baselineOrder ?? [];
  const rank = (m: Method) => (order.includes(m) ? order.indexOf(m) : order.length);
  const signals = [...new Set(spec.comparisons.map((c) => c.signal))];
  const rows = [...spec.comparisons]
    .sort((x, y) => signals.indexOf(x.signal) - signals.indexOf(y.signal) || rank(x.baseline) - rank(y.baseline))
    .map((c) => {
      const ci = Array.isArray(c.ci) ? c.ci : [NaN, NaN];
      const name = spec.label ? spec.label(c.baseline) : c.baseline;
      return {
        group: c.signal,
        label: `vs ${name}`,
        value: finite(c.diff),
        lo: finite(ci[0]),
        hi: finite(ci[1]),
        muted: c.insufficient,
        color: VERDICT_COLOR[c.verdict ?? 'none'],
        note: `${diffText(c)} ${verdictText(c)}`,
        tooltip: `${c.signal} / ${c.mediaType} / ${c.phase}: ${c.method} - ${name} (${c.metric.toUpperCase()}) ${diffText(c, 4)} ${verdictText(c)}`,
      };
    });
  return forestPlot({ title: spec.title, rows, xLabel: spec.xLabel, width: spec.width ?? 900, labelWidth: 230, noteWidth: 250 });
}
