/** Public surface of the FFM backbone (see docs/ffm.md). */
export { searchGrid, trainBackbones, splitInteractions, type Backbone, type BackboneOptions, type FfmSearch, type SearchTrial } from './backbones.js';
export { bytesPerRow, featureSpace, fieldIndex, ffmDataFromColumns, FfmDataBuilder, gatherRows, validateFfmData, type FeatureSpace, type FfmData, type FieldSpec } from './data.js';
export { buildSignalRows, CONTEXT_FIELDS, DEFAULT_NEGATIVES, hourOfDay, positivePairs, selectInteractions, signalSpace, type ContextField, type NegativeSampling, type SignalRows, type SignalRowsOptions } from './dataset.js';
export { dotScores, embeddingAuc, ffmEmbeddings, foldedEmbeddings, foldedScores, type EmbeddingAuc, type FfmEmbeddings, type FoldedEmbeddings } from './embeddings.js';
export { FfmError, type FfmErrorCode } from './errors.js';
export { biasBaseOf, fieldBiases, fieldVectors, globalBias, initWeights, meanLogLoss, predictLogits, type EpochRecord, type FfmModel } from './model.js';
export { DEFAULT_FFM_PARAMS, ffmParams, NORMAL_INIT_SCALE, type FfmParams } from './params.js';
export { BLOCK_SIZE, trainFfm, type TrainOptions } from './train.js';
