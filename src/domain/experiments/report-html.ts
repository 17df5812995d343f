/**
 * The HTML report of an experiment (`memer experiment report NAME --html OUT`): one self-contained page with the
 * paper's Table 3 layout (per arm: users, impressions, then each metric's rate with its 95% interval and, for the
 * other arms, the relative gain over the control with its interval), the sample-ratio check, and Figure 3's per-genre
 * breakdown: a forest plot of each arm's CTR gain per tag, with intervals.
 */
import { escapeXml, forestPlot, MUTED, PALETTE, type ForestRow } from '../../lib/plot/index.js';
import type { ReportView } from './views.js';

const pct = (x: number | null) => (x === null ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`);
const num = (x: number | null) => (x === null ? '–' : x.toPrecision(4));
const LABELS: Record<string, string> = {
  ctr: 'CTR',
  engagements_per_view: 'Engagements per view',
  plays_per_view: 'Successful plays per view',
  skips_per_view: 'Skips per view',
  interactions_per_view: 'Interactions per view',
  clicks_per_user: 'Clicks per user',
};

/** The metrics of Table 3 (those the signals allowed), else every metric. */
function tableMetrics(r: ReportView): string[] {
  const all = r.arms[0]?.metrics.map((m) => m.metric) ?? [];
  const table = all.filter((m) => m in LABELS);
  return table.length ? table : all;
}

function table(r: ReportView, arms: ReportView['arms'], metrics: string[]): string {
  const head = ['Arm', 'Source', 'Users', 'Impressions', ...metrics.map((m) => LABELS[m] ?? m)].map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const rows = arms.map((arm) => {
    const cells = metrics.map((name) => {
      const m = arm.metrics.find((x) => x.metric === name);
      if (!m) return '<td>–</td>';
      const rate = `${num(m.value)}<br><small>[${num(m.low)}, ${num(m.high)}]</small>`;
      if (arm.control) return `<td>${rate}</td>`;
      const significant = m.gainLow !== null && m.gainHigh !== null && (m.gainLow > 0 || m.gainHigh < 0);
      return `<td>${rate}<br><b class="${significant ? (m.gainLow! > 0 ? 'up' : 'down') : ''}">${pct(m.gain)}</b> <small>[${pct(m.gainLow)}, ${pct(m.gainHigh)}]</small></td>`;
    });
    return `<tr><th>${escapeXml(arm.arm)}${arm.control ? ' <small>(control)</small>' : ''}</th><td>${arm.source}</td><td>${arm.users}</td><td>${arm.impressions}</td>${cells.join('')}</tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function tagPlot(r: ReportView, metric: string): string {
  const rows: ForestRow[] = [];
  r.arms.forEach((arm, a) => {
    if (arm.control) return;
    for (const t of r.tags) {
      const m = t.arms[a]?.metrics.find((x) => x.metric === metric);
      if (!m) continue;
      const finite = m.gain !== null && m.gainLow !== null && m.gainHigh !== null;
      rows.push({
        label: t.tag,
        value: m.gain ?? NaN,
        lo: m.gainLow ?? NaN,
        hi: m.gainHigh ?? NaN,
        group: `${arm.arm} vs ${r.arms[0].arm}`,
        color: PALETTE[(a - 1) % PALETTE.length],
        muted: !finite,
        note: `${pct(m.gain)} [${pct(m.gainLow)}, ${pct(m.gainHigh)}], ${t.impressions} impressions`,
      });
    }
  });
  if (rows.length === 0) return '<p>No tags to break down.</p>';
  return forestPlot({ rows, title: `Relative ${LABELS[metric] ?? metric} gain per tag (95% intervals)`, xLabel: 'relative gain over the control', reference: 0 });
}

export function renderReportHtml(r: ReportView): string {
  const metrics = tableMetrics(r);
  const srm = r.sampleRatio;
  const figureMetric = metrics.includes('ctr') ? 'ctr' : metrics[0];
  const e = r.experiment;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment ${escapeXml(e.name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 0.4em 0.7em; text-align: right; vertical-align: top; }
thead th { background: #f4f4f4; }
tbody th { text-align: left; }
small { color: #666; }
.up { color: #1a7f37; } .down { color: #c62828; }
.muted { color: ${MUTED}; }
</style></head><body>
<h1>Experiment ${escapeXml(e.name)}</h1>
<p>Signal <b>${escapeXml(e.signal)}</b>, ${e.status}${e.startedAt ? `, started ${new Date(e.startedAt).toISOString()}` : ''}${e.stoppedAt ? `, stopped ${new Date(e.stoppedAt).toISOString()}` : ''};
attribution window ${r.attributionWindowSeconds} s; generated ${new Date(r.generatedAt).toISOString()}.
Rates are per impression of the posts their signals apply to (plays and skips: video impressions); intervals are 95%, by the delta method over users.</p>
<h2>Results per arm (Table 3)</h2>
${table(r, r.arms, metrics)}
<p>Sample ratio: χ² ${srm.chiSquare.toFixed(2)} (${srm.degreesOfFreedom} df), p = ${srm.pValue.toPrecision(3)}:
${srm.mismatch ? '<b class="down">mismatch: users did not split as configured, do not trust the comparison</b>' : 'users split as configured'}
(${srm.arms.map((a) => `${escapeXml(a.arm)} ${(100 * a.observedShare).toFixed(1)}% of users, expected ${(100 * a.expectedShare).toFixed(1)}%`).join('; ')}).
${r.clientImpressions ? `Client-reported impressions: ${r.clientImpressions} (replacing ${r.replacedServedImpressions} logged ones).` : ''}
${r.droppedImpressions ? `<b class="down">${r.droppedImpressions} impressions were dropped by the exposure log.</b>` : ''}</p>
<h2>Per genre (Figure 3)</h2>
${figureMetric ? tagPlot(r, figureMetric) : ''}
${r.tags.map((t) => `<h3>${escapeXml(t.tag)} <small>(${t.impressions} impressions)</small></h3>${table(r, t.arms, metrics)}`).join('\n')}
</body></html>
`;
}
