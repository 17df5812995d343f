import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, formatTick, lineChart, logTicks, niceTicks } from '../../../src/lib/plot/index.js';

/** Minimal well-formedness check: every tag closes in order (the charts use no CDATA, comments or entities beyond the five). */
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

test('niceTicks gives round steps that cover the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 97, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0, 20000, 6), [0, 5000, 10000, 15000, 20000]);
  const t = niceTicks(-0.013, 0.41, 5);
  assert.ok(t[0] <= -0.013 && t[t.length - 1] >= 0.41 && t.includes(0));
  assert.deepEqual(niceTicks(2, 2, 4), [1.8, 1.9, 2, 2.1, 2.2]);
  assert.deepEqual(logTicks(3, 2000), [1, 10, 100, 1000, 10000]);
  assert.throws(() => niceTicks(0, NaN), RangeError);
  assert.throws(() => logTicks(0, 10), RangeError);
});

test('formatTick and escapeXml', () => {
  assert.deepEqual([1500, 20000, 2e6, 0.25, 0, 1e-4, 7].map(formatTick), ['1.5k', '20k', '2M', '0.25', '0', '1e-4', '7']);
  assert.equal(escapeXml(`<a & "b">'`), '&lt;a &amp; &quot;b&quot;&gt;&apos;');
});

test('lineChart draws well-formed SVG with escaped text, legend and reference lines', () => {
  const svg = lineChart({
    title: 'Views <vs> distance & more',
    xLabel: 'views',
    yLabel: 'distance',
    series: [
      { name: 'play', x: [0, 100, 200, 300], y: [0.4, 0.2, 0.1, 0.05] },
      { name: 'like', x: [0, 100, 200, 300], y: [0.5, NaN, 0.1, 0.02], dashed: true, markers: true },
    ],
    hLines: [{ value: 0.05, label: 'epsilon' }],
    vLines: [{ value: 200, label: 'M = 200' }],
  });
  assertWellFormed(svg);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes('Views &lt;vs&gt; distance &amp; more'));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2, 'play is one line; like has only one segment of two points after the NaN');
  assert.equal((svg.match(/<circle/g) ?? []).length, 3, 'markers for the three finite like points');
  assert.ok(svg.includes('>play<') && svg.includes('>like<') && svg.includes('M = 200') && svg.includes('epsilon'));
});

test('points map into the plot area: the data corners land on the frame corners', () => {
  const svg = lineChart({ series: [{ name: '', x: [0, 10], y: [0, 1] }], width: 400, height: 300 });
  const frame = /<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="none"/.exec(svg)!;
  const [left, top, w, h] = frame.slice(1).map(Number);
  const points = /points="([^"]+)"/.exec(svg)![1].split(' ').map((p) => p.split(',').map(Number));
  assert.deepEqual(points, [[left, top + h], [left + w, top]]);
});

test('log axes drop non-positive values; bad input and long series are handled', () => {
  const svg = lineChart({ xScale: 'log', yScale: 'log', series: [{ name: 'a', x: [0, 1, 10, 100], y: [1, 0.1, 0, 0.001] }] });
  assertWellFormed(svg);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 0, 'each finite run has a single point, so no line is drawn');
  assert.throws(() => lineChart({ series: [{ name: 'a', x: [1, 2], y: [1] }] }), RangeError);
  const n = 300_000;
  const long = lineChart({ series: [{ name: 'long', x: Float64Array.from({ length: n }, (_, i) => i), y: Float64Array.from({ length: n }, (_, i) => Math.sin(i)) }] });
  assert.ok(long.length > n);
});
