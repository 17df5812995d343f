/**
 * A dependency-free SVG forest plot: one row per estimate, a point with its interval as a horizontal line, a vertical
 * reference line (zero by default), a label at the left and a note at the right. Output is one self-contained <svg>
 * string (no scripts). Rows may be grouped under bold headers.
 *
 *   point      `value`; a non-finite value draws no point (the note says why)
 *   interval   [lo, hi]; a non-finite end draws the point only; ends past a fixed axis are clipped with an arrow head
 *   muted      the row drawn in light grey (e.g. an estimate too thin to judge)
 */
import { escapeXml, PALETTE } from './line-chart.js';
import { formatTick, niceTicks } from './ticks.js';

export interface ForestRow {
  /** Left text (e.g. the compared method). */
  readonly label: string;
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  /** CSS colour of the point and interval; default the first palette colour. */
  readonly color?: string;
  /** Draw the row in light grey. */
  readonly muted?: boolean;
  /** Right text (e.g. "+0.012 [0.004, 0.020] win"). */
  readonly note?: string;
  /** Rows with the same group are drawn under one header, in the order the groups first appear. */
  readonly group?: string;
  /** Tooltip (an SVG <title>); default label and note. */
  readonly tooltip?: string;
}

export interface ForestPlotSpec {
  readonly rows: readonly ForestRow[];
  readonly title?: string;
  readonly xLabel?: string;
  /** The vertical reference line (default 0); null for none. */
  readonly reference?: number | null;
  /** Fixed axis bounds; by default they cover every finite value, interval end and the reference. */
  readonly xMin?: number;
  readonly xMax?: number;
  readonly width?: number;
  readonly rowHeight?: number;
  readonly labelWidth?: number;
  readonly noteWidth?: number;
}

/** The colour of muted rows. */
export const MUTED = '#c4c4c4';

const fmt = (v: number) => (Math.round(v * 100) / 100).toString();

export function forestPlot(spec: ForestPlotSpec): string {
  const width = spec.width ?? 900;
  const rowH = spec.rowHeight ?? 22;
  const labelW = spec.labelWidth ?? 200;
  const noteW = spec.noteWidth ?? 240;
  const ref = spec.reference === undefined ? 0 : spec.reference;
  // Rows in group order: a header line before the first row of each group.
  const groups: (string | undefined)[] = [];
  for (const r of spec.rows) if (!groups.includes(r.group)) groups.push(r.group);
  const lines: ({ kind: 'header'; text: string } | { kind: 'row'; row: ForestRow })[] = [];
  for (const g of groups) {
    if (g !== undefined) lines.push({ kind: 'header', text: g });
    for (const r of spec.rows) if (r.group === g) lines.push({ kind: 'row', row: r });
  }
  let lo = Infinity, hi = -Infinity;
  const see = (v: number) => {
    if (Number.isFinite(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  };
  for (const r of spec.rows) [r.value, r.lo, r.hi].forEach(see);
  if (ref !== null) see(ref);
  if (lo > hi) [lo, hi] = [-1, 1];
  const ticks = niceTicks(spec.xMin ?? lo, spec.xMax ?? hi, 6);
  const a = spec.xMin ?? ticks[0];
  const b = spec.xMax ?? ticks[ticks.length - 1];
  const margin = { left: labelW + 10, right: noteW + 10, top: spec.title ? 40 : 14, bottom: spec.xLabel ? 48 : 30 };
  const pw = Math.max(40, width - margin.left - margin.right);
  const ph = Math.max(1, lines.length) * rowH;
  const height = margin.top + ph + margin.bottom;
  const clamp = (v: number) => Math.min(Math.max(v, a), b);
  const px = (v: number) => margin.left + (pw * (clamp(v) - a)) / (b - a || 1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="forest" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (spec.title) out.push(`<text x="${fmt(width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`);
  const bottom = margin.top + ph;
  for (const t of ticks) {
    if (t < Math.min(a, b) || t > Math.max(a, b)) continue;
    const x = fmt(px(t));
    out.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${bottom}" stroke="#ececec"/>`);
    out.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle" fill="#333">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<line x1="${margin.left}" y1="${bottom}" x2="${margin.left + pw}" y2="${bottom}" stroke="#333"/>`);
  if (spec.xLabel) out.push(`<text x="${fmt(margin.left + pw / 2)}" y="${height - 12}" text-anchor="middle" font-size="12">${escapeXml(spec.xLabel)}</text>`);
  if (ref !== null && Number.isFinite(ref) && ref >= Math.min(a, b) && ref <= Math.max(a, b)) {
    out.push(`<line class="reference" x1="${fmt(px(ref))}" y1="${margin.top}" x2="${fmt(px(ref))}" y2="${bottom}" stroke="#555" stroke-dasharray="4 3"/>`);
  }
  lines.forEach((l, i) => {
    const y = margin.top + i * rowH + rowH / 2;
    if (l.kind === 'header') {
      out.push(`<text x="6" y="${fmt(y)}" dominant-baseline="middle" font-weight="bold">${escapeXml(l.text)}</text>`);
      return;
    }
    const r = l.row;
    const c = r.muted ? MUTED : (r.color ?? PALETTE[0]);
    const text = r.muted ? '#999' : '#222';
    out.push(`<g class="row${r.muted ? ' muted' : ''}">`);
    out.push(`<title>${escapeXml(r.tooltip ?? [r.group, r.label, r.note].filter(Boolean).join(' / '))}</title>`);
    out.push(`<text x="${labelW}" y="${fmt(y)}" text-anchor="end" dominant-baseline="middle" fill="${text}">${escapeXml(r.label)}</text>`);
    if (Number.isFinite(r.lo) && Number.isFinite(r.hi)) {
      const [l0, l1] = r.lo <= r.hi ? [r.lo, r.hi] : [r.hi, r.lo];
      out.push(`<line x1="${fmt(px(l0))}" y1="${fmt(y)}" x2="${fmt(px(l1))}" y2="${fmt(y)}" stroke="${c}" stroke-width="2"/>`);
      for (const [v, dir] of [[l0, -1], [l1, 1]] as const) {
        const x = px(v);
        const clipped = (dir < 0 && v < Math.min(a, b)) || (dir > 0 && v > Math.max(a, b));
        out.push(clipped
          ? `<path d="M${fmt(x)},${fmt(y)} l${-dir * 6},-4 v8 z" fill="${c}"/>`
          : `<line x1="${fmt(x)}" y1="${fmt(y - 4)}" x2="${fmt(x)}" y2="${fmt(y + 4)}" stroke="${c}" stroke-width="2"/>`);
      }
    }
    if (Number.isFinite(r.value)) out.push(`<circle cx="${fmt(px(r.value))}" cy="${fmt(y)}" r="4" fill="${c}"/>`);
    if (r.note) out.push(`<text x="${margin.left + pw + 10}" y="${fmt(y)}" dominant-baseline="middle" fill="${r.muted ? '#999' : c}">${escapeXml(r.note)}</text>`);
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n');
}
