/**
 * The evaluation as one self-contained HTML page (inline SVG, no scripts, no external files):
 *
 *   Table 2      the paper's layout per media type (and phase): per signal AUC, GAUC, F1 and RelaImpr for every
 *                method; groups with fewer than parameters.minRows rows or minPosts posts are greyed (insufficient: no
 *                verdict)
 *   comparisons  a forest plot per media type and phase of MEMER - baseline in GAUC with its 95% bootstrap interval over
 *                posts (win green, loss red, tie grey, insufficient light grey), and a verdict table (rows = signal,
 *                media type, phase; columns = baselines; GAUC verdict with the AUC verdict in small text)
 *   figures      the maturity curves (Figure 1) wherever the protocol has them (time, item-cold), AUC by method per
 *                signal, per-tag AUC (Figure 3); for the cvar protocol, AUC by warm-up phase
 *   tables       what the strong baselines learnt (RIDGE's lambda, HYBRID_MF's training), the thresholds M
 *
 * Undefined values (NaN, or null once the report went through JSON) are shown as "–".
 */
import { escapeXml, lineChart } from '../../lib/plot/index.js';
import type { MaturityCurve } from '../maturity/curve.js';
import { maturityCurveSvg } from '../maturity/plot.js';
import { barChart, comparisonForest, diffText, verdictText } from './charts.js';
import type { Comparison } from './comparisons.js';
import { BASELINES, type EvaluationReport, type ResultRow } from './types.js';

const LABEL: Record<string, string> = {
  RANDOM: 'Random', GLOBAL_AVG: 'Global Avg', TAG_AVG: 'Tag Avg', RIDGE: 'Ridge', HYBRID_MF: 'Hybrid MF (LightFM-style)', MATURE: 'Mature (reference)', MEMER: 'MEMER',
};
const labelOf = (m: string) => LABEL[m] ?? m;
const cap = (m: string) => m[0].toUpperCase() + m.slice(1);

/** "MEMER (Visual + Audio)" style names; `all` marks the all-modality model. */
export function methodName(r: Pick<ResultRow, 'method' | 'modalities'>): string {
  return r.method === 'MEMER' && r.modalities.length > 0 ? `MEMER (${r.modalities.map(cap).join(' + ')})` : labelOf(r.method);
}

/** Curve points averaged over fewer posts than this are left out of the plot. */
const MIN_POSTS_DRAWN = 20;

const num = (v: number | null | undefined, digits: number) => (typeof v !== 'number' || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const phaseSuffix = (phase: string) => (phase === 'cold' ? '' : ` (${escapeXml(phase)})`);
const INSUFFICIENT_TITLE = 'insufficient: too few rows or posts; no verdict';

function table2(rows: ResultRow[], mediaType: string, phase: string): string {
  const sel = rows.filter((r) => r.mediaType === mediaType && r.phase === phase);
  const signals = [...new Set(sel.map((r) => r.signal))];
  const methods = [...new Set(sel.map(methodName))];
  if (signals.length === 0) return '';
  // The group (signal, media type, phase) is insufficient as a whole: every method has the same rows.
  const thin = new Set(signals.filter((s) => sel.some((x) => x.signal === s && x.insufficient)));
  const cls = (s: string) => (thin.has(s) ? ' class="insufficient"' : '');
  const head1 = signals.map((s) => `<th colspan="4"${thin.has(s) ? ` class="insufficient" title="${INSUFFICIENT_TITLE}"` : ''}>${escapeXml(s)}${thin.has(s) ? ' (insufficient)' : ''}</th>`).join('');
  const head2 = signals.map((s) => `<th${cls(s)}>AUC</th><th${cls(s)}>GAUC</th><th${cls(s)}>F1</th><th${cls(s)}>RI(%)</th>`).join('');
  const body = methods.map((m) => {
    const cells = signals.map((s) => {
      const r = sel.find((x) => x.signal === s && methodName(x) === m);
      const c = cls(s);
      if (!r) return `<td${c}>–</td><td${c}>–</td><td${c}>–</td><td${c}>–</td>`;
      const ci = Array.isArray(r.relaImprCi) ? r.relaImprCi : null;
      const riTitle = ci ? ` title="95% interval [${num(ci[0], 1)}, ${num(ci[1], 1)}]"` : '';
      return `<td${c}>${num(r.auc, 3)}</td><td${c}>${num(r.gauc, 3)}</td><td${c}>${num(r.f1, 3)}</td><td${c}${riTitle}>${num(r.relaImpr, 1)}</td>`;
    });
    return `<tr><th class="m">${escapeXml(m)}</th>${cells.join('')}</tr>`;
  });
  const n = signals
    .map((s) => {
      const r = sel.find((x) => x.signal === s)!;
      const extra = [typeof r.posts === 'number' ? `${r.posts} posts` : '', typeof r.users === 'number' ? `${r.users} users in GAUC` : ''].filter(Boolean);
      return `${escapeXml(s)}: ${r.n ?? 0} rows${extra.length ? `, ${extra.join(', ')}` : ''}${thin.has(s) ? ' (insufficient)' : ''}`;
    })
    .join('; ');
  return `<h3>${escapeXml(mediaType.toUpperCase())}${phaseSuffix(phase)}</h3>
<table class="t2"><thead><tr><th rowspan="2">Methods</th>${head1}</tr><tr>${head2}</tr></thead><tbody>${body.join('\n')}</tbody></table>
<p class="note">Scored rows per signal: ${n}.</p>`;
}

const gaucOf = (cs: readonly Comparison[]) => cs.filter((c) => c.metric === 'gauc');

function forests(comparisons: readonly Comparison[], media: string[], phases: string[]): string[] {
  const out: string[] = [];
  for (const m of media) {
    for (const p of phases) {
      const sel = gaucOf(comparisons).filter((c) => c.mediaType === m && c.phase === p);
      if (sel.length === 0) continue;
      const svg = comparisonForest({
        title: `MEMER − baseline in GAUC, ${m}${p === 'cold' ? '' : `, ${p}`} (95% bootstrap interval over posts)`,
        comparisons: sel,
        label: labelOf,
        baselineOrder: BASELINES,
        xLabel: 'GAUC(MEMER) − GAUC(baseline)',
      });
      out.push(`<div class="fig">${svg}</div>`);
    }
  }
  return out;
}

function verdictCell(g: Comparison | undefined, a: Comparison | undefined): string {
  if (!g && !a) return '<td>–</td>';
  const main = g ?? a!;
  const classes = ['verdict', `v-${main.verdict ?? 'none'}`];
  if (main.insufficient) classes.push('insufficient');
  const title = [g ? `GAUC ${diffText(g, 4)} ${verdictText(g)}` : '', a ? `AUC ${diffText(a, 4)} ${verdictText(a)}` : ''].filter(Boolean).join('; ');
  const word = (c: Comparison) => (c.insufficient ? 'insufficient' : (c.verdict ?? '–'));
  const small = a ? `<br><small class="v-${a.verdict ?? 'none'}">AUC: ${word(a)}</small>` : '';
  return `<td class="${classes.join(' ')}" title="${escapeXml(title)}">${g ? word(g) : '–'}${small}</td>`;
}

function verdictTable(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return '';
  const baselines = BASELINES.filter((b) => comparisons.some((c) => c.baseline === b));
  const keyOf = (c: Comparison) => `${c.signal}\u0000${c.mediaType}\u0000${c.phase}`;
  const keys = [...new Set(comparisons.map(keyOf))];
  const body = keys.map((k) => {
    const cs = comparisons.filter((c) => keyOf(c) === k);
    const { signal, mediaType, phase } = cs[0];
    const thin = cs.some((c) => c.insufficient);
    const cells = baselines.map((b) => verdictCell(cs.find((c) => c.baseline === b && c.metric === 'gauc'), cs.find((c) => c.baseline === b && c.metric === 'auc')));
    return `<tr${thin ? ' class="insufficient"' : ''}><th class="m">${escapeXml(signal)}</th><th class="m">${escapeXml(mediaType)}</th><th class="m">${escapeXml(phase)}${thin ? ' (insufficient)' : ''}</th>${cells.join('')}</tr>`;
  });
  const tally = baselines.map((b) => {
    const g = gaucOf(comparisons).filter((c) => c.baseline === b);
    const count = (v: string | null) => g.filter((c) => c.verdict === v).length;
    return `<td>${count('win')} / ${count('tie')} / ${count('loss')}</td>`;
  });
  return `<table class="verdicts"><thead><tr><th>signal</th><th>media</th><th>phase</th>${baselines.map((b) => `<th>vs ${escapeXml(labelOf(b))}</th>`).join('')}</tr></thead>
<tbody>${body.join('\n')}</tbody>
<tfoot><tr><th class="m" colspan="3">GAUC wins / ties / losses</th>${tally.join('')}</tr></tfoot></table>`;
}

/** A value of a baselines info record, short. */
function infoValue(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : '–';
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function baselinesTable(records: readonly Record<string, unknown>[]): string {
  if (records.length === 0) return '';
  const rows = records.map((r) => {
    const { method, key, signal, ...rest } = r;
    const details = Object.entries(rest).map(([k, v]) => `${escapeXml(k)}: ${escapeXml(infoValue(v))}`).join(', ');
    return `<tr><th class="m">${escapeXml(labelOf(String(method ?? '')))}</th><th class="m">${escapeXml(infoValue(key ?? signal))}</th><td class="l">${details}</td></tr>`;
  });
  return `<h2>Strong baselines (what they learnt)</h2><table><thead><tr><th>method</th><th>group</th><th>details</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
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
  const comparisons = report.comparisons ?? [];
  const param = (k: string) => {
    const v = report.parameters?.[k];
    return typeof v === 'number' && Number.isFinite(v) ? String(v) : '–';
  };
  const sections: string[] = [];
  sections.push('<h2>Offline results (Table 2 layout)</h2>');
  for (const m of media) for (const p of phases) sections.push(table2(report.results, m, p));
  sections.push(`<p class="note">AUC: tie-aware ROC AUC of S = v_u · x_p over the scored rows. GAUC: per-user AUC over the users with both a positive and a negative row, weighted by the user's scored rows. F1: at the break-even threshold (the top-P scores are predicted positive, P = positives). RI: RelaImpr = (AUC − 0.5) / (AUC_mature − 0.5) × 100 on the same rows (– without a mature reference).</p>
<p class="note legend"><span class="insufficient swatch">insufficient</span>: fewer than ${param('minRows')} rows or ${param('minPosts')} posts; no verdict.</p>`);
  if (comparisons.length) {
    sections.push('<h2>MEMER against each baseline (GAUC, 95% bootstrap interval over posts)</h2>');
    sections.push('<p class="note">Difference MEMER (all modalities) − baseline on the same rows; the interval resamples evaluated posts. Verdict: <span class="v-win">win</span> when the interval lies above 0, <span class="v-loss">loss</span> when below, <span class="v-tie">tie</span> otherwise; – when too few resamples define the interval; none for insufficient groups (light grey).</p>');
    sections.push(...forests(comparisons, media, phases));
    sections.push('<h3>Verdicts (GAUC; AUC in small text)</h3>');
    sections.push(verdictTable(comparisons));
  }
  const curveFigs = media.flatMap((m) => {
    const c = curves(report, m);
    return c.length ? [`<div class="fig">${maturityCurveSvg(c, { title: `Maturity curves, ${m} (training posts)`, logViews: true, width: 900, height: 420 })}</div>`] : [];
  });
  if (curveFigs.length) sections.push('<h2>Embedding maturity curves (Figure 1) and threshold M</h2>', ...curveFigs);
  sections.push('<h2>AUC by method and signal</h2>');
  for (const m of media) sections.push(`<div class="fig">${aucBars(report.results, m, 'cold')}</div>`);
  if (report.protocol === 'cvar') {
    sections.push('<h2>Warm-up phases (cvar protocol)</h2>');
    for (const svg of phaseLines(report.results)) sections.push(`<div class="fig">${svg}</div>`);
  }
  if (report.perTag.length) {
    sections.push('<h2>Per-tag AUC (Figure 3: is the gain one category\'s?)</h2>');
    for (const svg of tagBars(report)) sections.push(`<div class="fig">${svg}</div>`);
    const fair = (report.fairness ?? []).filter((x) => x.tags > 0);
    const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
    if (fair.length) {
      const rows = fair.map((x) => `<tr><th class="m">${escapeXml(`${x.signal}/${x.mediaType}`)}</th><td>${x.tags}</td><td>${x.judged}</td><td>${x.worse}</td><td>${x.better}</td><td>${num(x.spread)}</td><td>${num(x.min)} .. ${num(x.max)}</td></tr>`);
      sections.push(`<h3>Fairness: MEMER - TAG_AVG GAUC per tag (95% bootstrap over the tag's posts)</h3><table><thead><tr><th>signal/media</th><th>tags</th><th>judged</th><th>worse</th><th>better</th><th>spread (sd)</th><th>range</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
    }
  }
  sections.push(baselinesTable(report.baselines ?? []));
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
td.l { text-align: left; }
.insufficient, tr.insufficient th, tr.insufficient td { color: #a0a0a0; background: #f5f5f5; }
.swatch { padding: 0 4px; border: 1px solid #ddd; }
.v-win { color: #2ca02c; font-weight: bold; }
.v-loss { color: #d62728; font-weight: bold; }
.v-tie { color: #808080; }
td.verdict { text-align: center; }
td.verdict small { font-size: 10px; font-weight: normal; }
td.insufficient.verdict, td.insufficient.verdict small { color: #a0a0a0; font-weight: normal; }
tfoot th, tfoot td { background: #fafafa; }
</style></head><body>
<h1>MEMER offline evaluation: ${escapeXml(String(report.dataset.name ?? ''))} (${escapeXml(report.protocol)} protocol)</h1>
<pre>${escapeXml(JSON.stringify(report.dataset, null, 1))}</pre>
<p class="note">Timings: ${timings}.</p>
${sections.join('\n')}
</body></html>
`;
}
