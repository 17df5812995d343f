/**
 * The HTML report on a synthetic EvaluationReport: Table 2 with GAUC and greyed insufficient groups, the forest plot of
 * MEMER - baseline (verdict colours, NaN intervals), the verdict table, the maturity curves where the protocol has
 * them; no "NaN"/"undefined" text, well-formed inline SVG. Also after a JSON round trip (NaN -> null).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forestPlot, MUTED } from '../../../src/lib/plot/index.js';
import { comparisonForest, VERDICT_COLOR } from '../../../src/ml/evaluation/charts.js';
import type { Comparison, Verdict } from '../../../src/ml/evaluation/comparisons.js';
import { methodName, renderReport } from '../../../src/ml/evaluation/report.js';
import type { EvaluationReport, Method, Protocol, ResultRow, ThresholdReport } from '../../../src/ml/evaluation/types.js';

/** Every tag closes in order (the charts use no CDATA, comments or entities beyond the five). */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;)/.test(svg), 'no bare ampersand');
}

const svgsOf = (html: string) => [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
const text = (html: string) => html.replace(/<[^>]*>/g, '').replace(/\s+/g, ' ');

function row(signal: string, method: Method, phase: string, auc: number, over: Partial<ResultRow> = {}): ResultRow {
  return {
    signal, mediaType: 'video', method, modalities: method === 'MEMER' ? ['visual', 'audio'] : [], phase, auc, gauc: auc - 0.01, users: 40, posts: 120,
    insufficient: false, f1: 0.3, f1Threshold: 0.1, relaImpr: method === 'MATURE' ? 100 : (auc - 0.5) / 0.3 * 100, n: 5000, positives: 900, ...over,
  };
}

const BASE: Method[] = ['RANDOM', 'GLOBAL_AVG', 'TAG_AVG', 'RIDGE', 'HYBRID_MF'];

function comparison(signal: string, phase: string, baseline: Method, metric: 'gauc' | 'auc', diff: number, ci: [number, number], verdict: Verdict | null, insufficient = false): Comparison {
  return { signal, mediaType: 'video', phase, method: 'MEMER', baseline, metric, diff, ci, verdict, insufficient };
}

function threshold(signal: string, curve: boolean): ThresholdReport {
  return {
    signal, mediaType: 'video', M: 300, source: curve ? 'curve' : 'cvar H', curveThreshold: curve ? 300 : null, snapshotEvery: curve ? 50 : 0, epsilon: 0.01,
    views: curve ? [50, 100, 200, 400, 800] : [], distance: curve ? [0.2, 0.1, 0.04, 0.012, 0.006] : [], count: curve ? [400, 300, 200, 100, 30] : [],
    trainPosts: 900, maturePosts: 300,
  };
}

/** like: a sufficient group with a win, a loss, a tie and an undefined interval; share: insufficient (too few posts). */
function synthetic(protocol: Protocol): EvaluationReport {
  const phases = protocol === 'cvar' ? ['cold', 'warm-a'] : ['cold'];
  const results: ResultRow[] = [];
  const comparisons: Comparison[] = [];
  for (const phase of phases) {
    for (const [signal, insufficient] of [['like', false], ['share', true]] as const) {
      const extra = insufficient ? { insufficient, posts: 12, n: 300 } : {};
      BASE.forEach((m, i) => results.push(row(signal, m, phase, 0.55 + i * 0.02, extra)));
      if (protocol !== 'item-cold') results.push(row(signal, 'MATURE', phase, 0.8, extra));
      results.push(row(signal, 'MEMER', phase, 0.712, { ...extra, modalities: ['visual'] }));
      results.push(row(signal, 'MEMER', phase, 0.723, { ...extra, relaImprCi: protocol === 'item-cold' ? null : [60, -Infinity] }));
      if (protocol === 'item-cold') for (const r of results) r.relaImpr = null;
      for (const metric of ['gauc', 'auc'] as const) {
        if (insufficient) {
          for (const b of BASE) comparisons.push(comparison(signal, phase, b, metric, 0.05, [-0.02, 0.11], null, true));
        } else {
          comparisons.push(comparison(signal, phase, 'RANDOM', metric, 0.2, [0.15, 0.25], 'win'));
          comparisons.push(comparison(signal, phase, 'GLOBAL_AVG', metric, 0.1, [0.07, 0.13], metric === 'gauc' ? 'win' : 'tie'));
          comparisons.push(comparison(signal, phase, 'TAG_AVG', metric, -0.03, [-0.05, -0.01], 'loss'));
          comparisons.push(comparison(signal, phase, 'RIDGE', metric, 0.004, [-0.01, 0.02], 'tie'));
          comparisons.push(comparison(signal, phase, 'HYBRID_MF', metric, 0.01, [NaN, NaN], null));
        }
      }
    }
  }
  const curve = protocol !== 'cvar';
  return {
    protocol,
    dataset: { name: 'synthetic <test> & co', items: 1000 },
    thresholds: { 'like/video': threshold('like', curve), 'share/video': threshold('share', curve) },
    ffm: [],
    memer: [],
    results,
    comparisons,
    baselines: [{ key: 'like/video', method: 'RIDGE', lambda: 0.3, folds: 5, loss: NaN }, { signal: 'like', method: 'HYBRID_MF', epochs: 20, loss: 'warp', history: [0.5, 0.4] }],
    perTag: [{ signal: 'like', mediaType: 'video', tag: 'cats', n: 400, auc: { TAG_AVG: 0.6, MEMER: 0.7 }, gauc: { TAG_AVG: 0.58, MEMER: 0.66 }, gain: { baseline: 'TAG_AVG', diff: 0.08, ci: [0.02, 0.14], verdict: 'win' } }],
    parameters: { minRows: 1000, minPosts: 50, resamples: 200 },
    timings: { total: 12.3 },
  };
}

function checkClean(html: string): void {
  assert.ok(!/NaN|undefined|Infinity/.test(html), `no NaN/undefined/Infinity in the page: ${html.match(/.{60}(NaN|undefined|Infinity).{60}/s)?.[0]}`);
  const svgs = svgsOf(html);
  assert.equal(svgs.length, (html.match(/<svg\b/g) ?? []).length, 'every <svg> is closed');
  assert.equal((html.match(/<\/svg>/g) ?? []).length, svgs.length);
  for (const svg of svgs) assertWellFormed(svg);
  for (const tag of ['table', 'tr', 'thead', 'tbody', 'h2', 'h3', 'p']) {
    assert.equal((html.match(new RegExp(`<${tag}\\b`, 'g')) ?? []).length, (html.match(new RegExp(`</${tag}>`, 'g')) ?? []).length, `balanced <${tag}>`);
  }
}

/** The <td>s of one Table 2 body row (the row of `method`) of the first Table 2 table. */
function table2Cells(html: string, method: string): string[] {
  const table = html.match(/<table class="t2">[\s\S]*?<\/table>/)![0];
  const tr = [...table.matchAll(/<tr>[\s\S]*?<\/tr>/g)].map((m) => m[0]).find((t) => t.includes(`<th class="m">${method}</th>`));
  assert.ok(tr, `a Table 2 row for ${method}`);
  return [...tr.matchAll(/<td[^>]*>[^<]*<\/td>/g)].map((m) => m[0]);
}

test('Table 2 has AUC, GAUC, F1, RI per signal and greys the insufficient group', () => {
  const html = renderReport(synthetic('time'));
  checkClean(html);
  assert.ok(html.includes('<th>AUC</th><th>GAUC</th><th>F1</th><th>RI(%)</th>'), 'GAUC column beside AUC');
  assert.ok(html.includes('<th class="insufficient">AUC</th><th class="insufficient">GAUC</th>'), 'the insufficient signal\'s header is greyed');
  const cells = table2Cells(html, 'MEMER (Visual + Audio)');
  assert.equal(cells.length, 8, 'two signals x (AUC, GAUC, F1, RI)');
  assert.deepEqual(cells.slice(0, 4).map((c) => c.includes('class="insufficient"')), [false, false, false, false], 'like is sufficient');
  assert.deepEqual(cells.slice(4).map((c) => c.includes('class="insufficient"')), [true, true, true, true], 'share is insufficient');
  assert.match(cells[0], />0\.723</);
  assert.match(cells[1], />0\.713</, 'GAUC value');
  assert.match(cells[3], /title="95% interval \[60\.0, –\]"/, 'unbounded RelaImpr end shown as –');
  assert.ok(text(html).includes('insufficient: fewer than 1000 rows or 50 posts; no verdict'), 'legend');
  assert.ok(html.includes('<th class="m">Ridge</th>') && html.includes('<th class="m">Hybrid MF (LightFM-style)</th>'), 'new baselines labelled');
  assert.ok(html.includes('synthetic &lt;test&gt; &amp; co'), 'escaped dataset name');
  assert.ok(html.includes('Strong baselines') && html.includes('lambda: 0.3'), 'baselines info');
  assert.ok(html.includes('Maturity curves, video'), 'the time protocol draws the maturity curves');
});

test('methodName handles the new baselines and MEMER', () => {
  assert.equal(methodName({ method: 'RIDGE', modalities: [] }), 'Ridge');
  assert.equal(methodName({ method: 'HYBRID_MF', modalities: [] }), 'Hybrid MF (LightFM-style)');
  assert.equal(methodName({ method: 'MEMER', modalities: ['visual', 'text'] }), 'MEMER (Visual + Text)');
  assert.equal(methodName({ method: 'MEMER', modalities: [] }), 'MEMER');
});

test('the forest plot shows each (signal, baseline) coloured by verdict, NaN intervals as a point, insufficient greyed', () => {
  const html = renderReport(synthetic('time'));
  const forests = svgsOf(html).filter((s) => s.includes('class="forest"'));
  assert.equal(forests.length, 1, 'one forest plot per media type and phase');
  const f = forests[0];
  assert.ok(f.includes('class="reference"'), 'a zero line');
  const rows = [...f.matchAll(/<g class="row( muted)?">[\s\S]*?<\/g>/g)].map((m) => m[0]);
  assert.equal(rows.length, 10, 'two signals x five baselines');
  const find = (signal: string, label: string) => rows.find((r) => r.includes(`<title>${signal} / video / cold: MEMER - ${label} (GAUC)`))!;
  const win = find('like', 'Random');
  assert.ok(win.includes(`fill="${VERDICT_COLOR.win}"`) && win.includes(`stroke="${VERDICT_COLOR.win}"`) && win.includes('+0.200 [+0.150, +0.250] win'));
  const loss = find('like', 'Tag Avg');
  assert.ok(loss.includes(`fill="${VERDICT_COLOR.loss}"`) && loss.includes('-0.030 [-0.050, -0.010] loss'));
  const tie = find('like', 'Ridge');
  assert.ok(tie.includes(`fill="${VERDICT_COLOR.tie}"`) && tie.includes('tie'));
  const nan = find('like', 'Hybrid MF (LightFM-style)');
  assert.ok(nan.includes('<circle') && !nan.includes('<line'), 'an undefined interval draws the point only');
  assert.ok(nan.includes('+0.010 [–, –] no verdict'));
  const thin = find('share', 'Random');
  assert.ok(thin.startsWith('<g class="row muted">') && thin.includes(`fill="${MUTED}"`) && thin.includes('insufficient'));
  assert.equal(rows.filter((r) => r.includes('row muted')).length, 5, 'only the insufficient group is muted');
  assert.ok(f.includes('>like<') && f.includes('>share<'), 'grouped by signal');
});

test('the verdict table: GAUC verdict with AUC in small text, insufficient rows greyed, tallies', () => {
  const html = renderReport(synthetic('time'));
  const table = html.match(/<table class="verdicts">[\s\S]*?<\/table>/)![0];
  const trs = [...table.match(/<tbody>[\s\S]*?<\/tbody>/)![0].matchAll(/<tr[^>]*>[\s\S]*?<\/tr>/g)].map((m) => m[0]);
  assert.equal(trs.length, 2);
  const like = trs.find((t) => t.includes('<th class="m">like</th>'))!;
  const share = trs.find((t) => t.includes('<th class="m">share</th>'))!;
  assert.ok(like.startsWith('<tr>') && share.startsWith('<tr class="insufficient">'));
  const cells = [...like.matchAll(/<td[^>]*>[\s\S]*?<\/td>/g)].map((m) => m[0]);
  assert.equal(cells.length, 5, 'one column per baseline');
  assert.match(cells[0], /class="verdict v-win"[^>]*>win<br><small class="v-win">AUC: win<\/small>/);
  assert.match(cells[1], />win<br><small class="v-tie">AUC: tie<\/small>/, 'GAUC and AUC verdicts can differ');
  assert.match(cells[2], />loss</);
  assert.match(cells[3], />tie</);
  assert.match(cells[4], /class="verdict v-none"[^>]*>–<br>/, 'no verdict without an interval');
  assert.ok(!like.includes('insufficient'));
  assert.ok([...share.matchAll(/<td class="verdict v-none insufficient"/g)].length === 5 && share.includes('>insufficient<br>'));
  for (const b of ['Random', 'Global Avg', 'Tag Avg', 'Ridge', 'Hybrid MF (LightFM-style)']) assert.ok(table.includes(`<th>vs ${b}</th>`));
  assert.ok(table.includes('<td>1 / 0 / 0</td>') && table.includes('<td>0 / 0 / 1</td>') && table.includes('<td>0 / 1 / 0</td>') && table.includes('<td>0 / 0 / 0</td>'), 'wins / ties / losses');
});

test('item-cold: no RelaImpr, maturity curves still drawn; cvar: a forest per phase, no curves', () => {
  const cold = renderReport(synthetic('item-cold'));
  checkClean(cold);
  assert.ok(cold.includes('Maturity curves, video'), 'item-cold has maturity curves');
  assert.ok(!cold.includes('Mature (reference)'));
  assert.match(table2Cells(cold, 'MEMER (Visual + Audio)')[3], />–</, 'RI is – without a mature reference');
  const cvar = renderReport(synthetic('cvar'));
  checkClean(cvar);
  assert.ok(!cvar.includes('Maturity curves'), 'cvar has no curves');
  assert.ok(cvar.includes('Warm-up phases (cvar protocol)'));
  assert.equal(svgsOf(cvar).filter((s) => s.includes('class="forest"')).length, 2, 'cold and warm-a');
  assert.ok(cvar.includes('<h3>VIDEO (warm-a)</h3>'));
});

test('a report read back from JSON (NaN and -Infinity as null) renders the same way', () => {
  const report = JSON.parse(JSON.stringify(synthetic('time'))) as EvaluationReport;
  assert.equal(report.comparisons[4].ci[0], null);
  const html = renderReport(report);
  checkClean(html);
  assert.ok(html.includes('+0.010 [–, –] no verdict'));
  // An old report without the new fields still renders.
  const old = synthetic('time') as Partial<EvaluationReport>;
  delete old.comparisons;
  delete old.baselines;
  for (const r of old.results!) delete (r as Partial<ResultRow>).gauc;
  const h = renderReport(old as EvaluationReport);
  assert.ok(!h.includes('class="forest"') && !/NaN|undefined/.test(h));
});

test('forestPlot: empty rows, NaN points, intervals past a fixed axis clipped with arrows', () => {
  for (const svg of [
    forestPlot({ rows: [] }),
    forestPlot({ title: 'x & y', rows: [{ label: 'a', value: NaN, lo: NaN, hi: NaN, note: '–' }] }),
    forestPlot({ rows: [{ label: 'b', value: 0.5, lo: -3, hi: 3, group: 'g' }], xMin: -1, xMax: 1, reference: null }),
  ]) {
    assertWellFormed(svg);
    assert.ok(!/NaN|undefined|Infinity/.test(svg));
  }
  const clipped = forestPlot({ rows: [{ label: 'b', value: 0.5, lo: -3, hi: 3 }], xMin: -1, xMax: 1 });
  assert.equal((clipped.match(/<path /g) ?? []).length, 2, 'both ends clipped');
  const none = forestPlot({ rows: [{ label: 'a', value: NaN, lo: NaN, hi: NaN }] });
  assert.ok(!none.includes('<circle'));
  // The wrapper orders baselines as given and groups by signal.
  const svg = comparisonForest({
    title: 't',
    comparisons: [comparison('s', 'cold', 'TAG_AVG', 'gauc', 0.1, [0, 0.2], 'tie'), comparison('s', 'cold', 'RANDOM', 'gauc', 0.1, [0.05, 0.2], 'win')],
    baselineOrder: BASE,
  });
  assert.ok(svg.indexOf('vs RANDOM') < svg.indexOf('vs TAG_AVG'));
});
