export { cosineDistance, findThreshold, type MaturityCurve } from './curve.js';
export { maturityCurveSvg, type MaturityPlotOptions } from './plot.js';
export { DEFAULT_MATURITY_PARAMS, doublingGrid, maturityCurve, maturityCurves, type MaturityOptions, type MaturityParams } from './replay.js';
