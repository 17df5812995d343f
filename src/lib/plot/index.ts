export { escapeXml, lineChart, PALETTE, type LineChartSpec, type RefLine, type Series } from './line-chart.js';
export { formatTick, logTicks, niceTicks } from './ticks.js';
export { forestPlot, MUTED, type ForestPlotSpec, type ForestRow } from './forest-plot.js';
