/** Tiny MEMER configurations and batches for the tests. */
import { memerConfig, type MemerConfig, type ModalitySpec } from '../../../src/ml/memer/config.js';
import { BatchAssembler, splitByItem, type MemerTrainingData } from '../../../src/ml/memer/data.js';
import { modalityStats } from '../../../src/ml/memer/features.js';
import type { StatsByModality } from '../../../src/ml/memer/model.js';
import { syntheticData } from '../../../src/ml/memer/synthetic.js';
import type { RefTensor } from '../../../src/ml/graph/reference.js';
import { Rng } from '../../../src/ml/graph/rng.js';

export const TINY_MODALITIES: ModalitySpec[] = [
  { modality: 'visual', dim: 5 },
  { modality: 'audio', dim: 3 },
  { modality: 'text', dim: 2 },
];

export function tinyConfig(over: { seed?: number; sampleLatent?: boolean; batchSize?: number } = {}): MemerConfig {
  return memerConfig({
    architecture: { modalities: TINY_MODALITIES, embeddingDim: 4, semanticDim: 6, encoderHidden: 5, latentDim: 3, decoderHidden: 5, sampleLatent: over.sampleLatent ?? true, initialLogVar: -1 },
    loss: { alpha: 0.7, beta: 1.3, gamma: 0.9 },
    training: { seed: over.seed ?? 3, batchSize: over.batchSize ?? 16, threads: 1 },
  });
}

export function tinyData(seed = 11): MemerTrainingData {
  return syntheticData({ modalities: TINY_MODALITIES, items: 30, users: 10, samples: 120, embeddingDim: 4, factors: 3, missingRate: 0.3, seed });
}

export function statsFor(data: MemerTrainingData, config: MemerConfig): StatsByModality {
  const rows = Int32Array.from({ length: data.items.count }, (_, i) => i);
  const stats: StatsByModality = {};
  for (const s of config.architecture.modalities) stats[s.modality] = modalityStats(data.items.features[s.modality]!, rows, data.items.presence?.[s.modality]);
  return stats;
}

/** One batch of `n` samples as reference tensors (noise from `noiseSeed`, or zeros). */
export function tinyBatch(data: MemerTrainingData, config: MemerConfig, n: number, start = 0, noiseSeed?: number): Record<string, RefTensor> {
  const a = config.architecture;
  const asm = new BatchAssembler(data, a.modalities, a.embeddingDim, a.latentDim, n, a.sampleLatent);
  const order = Int32Array.from({ length: data.samples.length }, (_, i) => i);
  const feeds = asm.fill(order, start, n, noiseSeed === undefined ? undefined : new Rng(noiseSeed));
  const out: Record<string, RefTensor> = {};
  for (const [k, v] of Object.entries(feeds)) out[k] = { data: Float32Array.from(v.data), shape: [...v.dims] };
  return out;
}

export { splitByItem };
