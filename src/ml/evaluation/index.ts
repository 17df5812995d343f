export { barChart, type BarChartSpec } from './charts.js';
export { cvarSplit, evaluateCvar, warmUp, WARM_PHASES } from './cvar-protocol.js';
export { hashedTextFeatures, withHashedText } from './hashed-features.js';
export { modalitySubsets } from './methods.js';
export { methodName, renderReport } from './report.js';
export { evaluateTime, timeSplit, type TimeSplit } from './time-protocol.js';
export { DEFAULT_EVALUATION_OPTIONS, evaluationOptions, METHODS, type EvaluationOptions, type EvaluationReport, type Method, type ResultRow, type TagGain, type ThresholdReport } from './types.js';
