/** Public surface of the FFM backbone (see docs/ffm.md). */
export { trainBackbones, splitInteractions, type Backbone, type BackboneOptions } from './backbones.js';
export { bytesPerRow, featureSpace, fieldIndex, ffmDataFromColumns, FfmDataBuilder, gatherRows, validateFfmData, type FeatureSpace, type FfmData, type FieldSpec } from './data.js';
export { buildSignalRows, CONTEXT_FIELDS, DEFAULT_NEGATIVES, hourOfDay, positivePairs, selectInteractions, signalSpace, type ContextField, type NegativeSampling, type SignalRows, type SignalRowsOptions } from './dataset.js';
export { dotScores, embeddingAuc, ffmEmbeddings, type EmbeddingAuc, type FfmEmbeddings } from './embeddings.js';
export { FfmError, type FfmErrorCode } from './errors.js';
export { fieldVectors, initWeights, meanLogLoss, predictLogits, type EpochRecord, type FfmModel } from './model.js';
export { DEFAULT_FFM_PARAMS, ffmParams, type FfmParams } from './params.js';
export { BLOCK_SIZE, trainFfm, type TrainOptions } from './train.js';
