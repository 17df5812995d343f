/**
 * The evaluation as one self-contained HTML page (inline SVG, no scripts, no external files): the paper's Table 2
 * layout per media type, the maturity curves (Figure 1), AUC by method per signal, and per-tag AUC (Figure 3); for the
 * cvar protocol, AUC by warm-up phase.
 */
import { escapeXml, lineChart } from '../../lib/plot/index.js';
import type { MaturityCurve } from '../maturity/curve.js';
import { maturityCurveSvg } from '../maturity/plot.js';
import { barChart } from './charts.js';
import type { EvaluationReport, ResultRow } from './types.js';

const LABEL: Record<string, string> = { RANDOM: 'Random', GLOBAL_AVG: 'Global Avg', TAG_AVG: 'Tag Avg', MATURE: 'Mature (reference)', MEMER: 'MEMER' };
const cap = (m: string) => m[0].toUpperCase() + m.slice(1);

/** "MEMER (Visual + Audio)" style names; `all` marks the all-modality model. */
export function methodName(r: Pick<ResultRow, 'method' | 'modalities'>): string {
  return r.method === 'MEMER' ? `MEMER (${r.modalities.map(cap).join(' + ')})` : LABEL[r.method];
}

/** Curve points averaged over fewer posts than this are left out of the plot. */
const MIN_POSTS_DRAWN = 20;

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function table2(rows: ResultRow[], mediaType: string, phase: string): string {
  const sel = rows.filter((r) => r.mediaType === mediaType && r.phase === phase);
  const signals = [...new Set(sel.map((r) => r.signal))];
  const methods = [...new Set(sel.map(methodName))];
  if (signals.length === 0) return '';
  const head1 = signals.map((s) => `<th colspan="3">${escapeXml(s)}</th>`).join('');
  const head2 = signals.map(() => '<th>AUC</th><th>F1</th><th>RI(%)</th>').join('');
  const body = methods.map((m) => {
    const cells = signals.map((s) => {
      const r = sel.find((x) => x.signal === s && methodName(x) === m);
      return r ? `<td>${num(r.auc, 3)}</td><td>${num(r.f1, 3)}</td><td>${num(r.relaImpr, 1)}</td>` : '<td>–</td><td>–</td><td>–</td>';
    });
    return `<tr><th class="m">${escapeXml(m)}</th>${cells.join('')}</tr>`;
  });
  const n = signals.map((s) => `${escapeXml(s)}: ${sel.find((x) => x.signal === s)?.n ?? 0} rows`).join(', ');
  return `<h3>${escapeXml(mediaType.toUpperCase())}${phase === 'cold' ? '' : ` (${escapeXml(phase)})`}</h3>
<table><thead><tr><th rowspan="2">Methods</th>${head1}</tr><tr>${head2}</tr></thead><tbody>${body.join('\n')}</tbody></table>
<p class="note">Scored rows per signal: ${n}.</p>`;
}

function curves(report: EvaluationReport, mediaType: string): MaturityCurve[] {
  return Object.values(report.thresholds)
    .filter((t) => t.mediaType === mediaType && t.views.length > 0)
    .map((t) => {
      // Points averaged over few posts are noise (and are not used for M): drawn as gaps.
      const distance = t.distance.map((v, i) => (t.count[i] >= MIN_POSTS_DRAWN ? v : NaN));
      return { key: `${t.signal}/${t.mediaType}`, signal: t.signal, mediaType: t.mediaType, snapshotEvery: t.snapshotEvery, views: t.views, distance, count: t.count, epsilon: t.epsilon, minPosts: MIN_POSTS_DRAWN, threshold: t.M };
    });
}

function aucBars(rows: ResultRow[], mediaType: string, phase: string): string {
  const sel = rows.filter((r) => r.mediaType === mediaType && r.phase === phase);
  const signals = [...new Set(sel.map((r) => r.signal))];
  const methods = [...new Set(sel.map(methodName))];
  if (signals.length === 0) return '';
  return barChart({
    title: `AUC by method, ${mediaType}${phase === 'cold' ? '' : `, ${phase}`}`,
    groups: signals,
    series: methods.map((m) => ({ name: m, values: signals.map((s) => sel.find((r) => r.signal === s && methodName(r) === m)?.auc ?? NaN) })),
    yLabel: 'AUC',
    yMin: 0.45,
    height: 380,
  });
}

function tagBars(report: EvaluationReport): string[] {
  const keys = [...new Set(report.perTag.map((t) => `${t.signal}/${t.mediaType}`))];
  return keys.map((key) => {
    const tags = report.perTag.filter((t) => `${t.signal}/${t.mediaType}` === key);
    const methods = (['TAG_AVG', 'MEMER', 'MATURE'] as const).filter((m) => tags.some((t) => t.auc[m] !== undefined));
    return barChart({
      title: `AUC per tag, ${key} (MEMER with all modalities)`,
      groups: tags.map((t) => `${t.tag} (${t.n})`),
      series: methods.map((m) => ({ name: LABEL[m], values: tags.map((t) => t.auc[m] ?? NaN) })),
      yLabel: 'AUC',
      yMin: 0.4,
      width: 900,
      height: 320,
    });
  });
}

function phaseLines(rows: ResultRow[]): string[] {
  const phases = ['cold', 'warm-a', 'warm-b', 'warm-c'];
  const keys = [...new Set(rows.map((r) => `${r.signal}/${r.mediaType}`))];
  return keys.map((key) => {
    const sel = rows.filter((r) => `${r.signal}/${r.mediaType}` === key);
    const methods = [...new Set(sel.map(methodName))];
    return lineChart({
      title: `AUC by warm-up phase, ${key} (0 = cold, 1-3 = warm-a..c)`,
      xLabel: 'phase',
      yLabel: 'AUC',
      series: methods.map((m) => ({ name: m, x: [0, 1, 2, 3], y: phases.map((p) => sel.find((r) => r.phase === p && methodName(r) === m)?.auc ?? NaN), markers: true })),
      width: 720,
      height: 380,
    });
  });
}

export function renderReport(report: EvaluationReport): string {
  const media = [...new Set(report.results.map((r) => r.mediaType))];
  const phases = [...new Set(report.results.map((r) => r.phase))];
  const sections: string[] = [];
  sections.push('<h2>Offline results (Table 2 layout)</h2>');
  for (const m of media) for (const p of phases) sections.push(table2(report.results, m, p));
  sections.push('<p class="note">AUC: tie-aware ROC AUC of S = v_u · x_p over the scored rows. F1: at the break-even threshold (the top-P scores are predicted positive, P = positives). RI: RelaImpr = (AUC − 0.5) / (AUC_mature − 0.5) × 100 on the same rows.</p>');
  if (report.protocol === 'time') {
    sections.push('<h2>Embedding maturity curves (Figure 1) and threshold M</h2>');
    for (const m of media) {
      const c = curves(report, m);
      if (c.length) sections.push(`<div class="fig">${maturityCurveSvg(c, { title: `Maturity curves, ${m} (training posts)`, logViews: true, width: 900, height: 420 })}</div>`);
    }
  }
  sections.push('<h2>AUC by method and signal</h2>');
  for (const m of media) sections.push(`<div class="fig">${aucBars(report.results, m, 'cold')}</div>`);
  if (report.protocol === 'cvar') {
    sections.push('<h2>Warm-up phases (cvar protocol)</h2>');
    for (const svg of phaseLines(report.results)) sections.push(`<div class="fig">${svg}</div>`);
  }
  if (report.perTag.length) {
    sections.push('<h2>Per-tag AUC (Figure 3: is the gain one category\'s?)</h2>');
    for (const svg of tagBars(report)) sections.push(`<div class="fig">${svg}</div>`);
  }
  const th = Object.entries(report.thresholds).map(([k, t]) => `<tr><th class="m">${escapeXml(k)}</th><td>${t.M}</td><td>${escapeXml(t.source)}</td><td>${t.curveThreshold ?? '–'}</td><td>${t.trainPosts}</td><td>${t.maturePosts}</td><td>${t.testMaturePosts ?? '–'}</td></tr>`);
  sections.push(`<h2>Thresholds</h2><table><thead><tr><th>signal/media</th><th>M</th><th>source</th><th>M (curve)</th><th>training posts</th><th>mature</th><th>test posts past M</th></tr></thead><tbody>${th.join('')}</tbody></table>`);
  const timings = Object.entries(report.timings).map(([k, v]) => `${escapeXml(k)} ${v.toFixed(1)} s`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>MEMER evaluation: ${escapeXml(String(report.dataset.name ?? ''))}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; max-width: 1300px; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: right; }
th.m { text-align: left; font-weight: normal; }
thead th { background: #f0f0f0; text-align: center; }
.note { color: #555; font-size: 12px; }
.fig { margin: 10px 0 18px; }
pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
</style></head><body>
<h1>MEMER offline evaluation: ${escapeXml(String(report.dataset.name ?? ''))} (${escapeXml(report.protocol)} protocol)</h1>
<pre>${escapeXml(JSON.stringify(report.dataset, null, 1))}</pre>
<p class="note">Timings: ${timings}.</p>
${sections.join('\n')}
</body></html>
`;
}
