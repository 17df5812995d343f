export { featureLayout, gatherItemFeatures, postFeatureVectors, postTagNames } from './features.js';
export { buildMemerData, normalisedFreq, trainMemerModel, type MemerModel, type MemerModelInput, type MemerModelMetrics } from './memer-model.js';
export { DEFAULT_PIPELINE_OPTIONS, PAPER_PIPELINE_OPTIONS, pipelineOptions, type MemerOverrides, type PipelineOptions } from './options.js';
export { pipelineProgress, pipelineSummary } from './progress.js';
export { interactionsOfItems, itemMask, viewCounts, withInteractions } from './subset.js';
export { estimateThreshold, type SignalThreshold, type ThresholdSource } from './thresholds.js';
export { trainPipeline, type FfmReport, type MediaModel, type PipelineEvent, type PipelineResult, type SignalModel } from './train.js';
