/** HYBRID_MF: a LightFM-style hybrid matrix factorisation baseline for cold items (docs/hybrid-mf.md). */
export { perUserAuc, sampledRows, type PairRows } from './evaluate.js';
export { denseFeatures, sparseFeatures, type DenseBlock, type DenseFeatures, type ItemFeatures, type SparseFeatures } from './features.js';
export { hybridMfModel, initParams, itemVectors, scorePairs, type HybridMfModel, type HybridParams } from './model.js';
export { DEFAULT_HYBRID_MF_OPTIONS, hybridMfOptions, type HybridLoss, type HybridMfOptions } from './options.js';
export { trainHybridMf, type EpochRecord } from './train.js';
