/**
 * Named simulator configurations, so that a platform used for recorded results can be rebuilt from the command line
 * (`memer simulate --preset science --seed 1 --out DIR`); explicit flags override a preset's values.
 */
import type { SimulatorOverrides } from './options.js';

export const PRESETS = {
  /**
   * The science test's platform (test/ml/evaluation/science.test.ts): 4000 posts, 500 users, ~500k interactions,
   * reduced feature widths and boosted engagement so that like, share and favorite have enough scored rows.
   */
  science: {
    users: 500,
    posts: 4000,
    interactions: 500_000,
    popularitySigma: 0.5,
    dims: { videoVisual: 64, imageVisual: 72, audio: 16, text: 16 },
    rates: { click: 0.3, likeGivenClick: 0.5, shareGivenClick: 0.4, favoriteGivenClick: 0.45 },
    writeLatent: false,
  },
  /**
   * The default platform (20k posts, 10k users, 1M interactions, the paper's feature widths) with the science preset's
   * engagement: at the paper's online rates (like, share, favorite 4-10% of clicks) the positive-only signals have too
   * few held-out rows to be judged at this size (docs/evaluation.md, "Synthetic platform at the default size").
   */
  engaged: {
    rates: { click: 0.3, likeGivenClick: 0.5, shareGivenClick: 0.4, favoriteGivenClick: 0.45 },
  },
} as const satisfies Record<string, SimulatorOverrides>;

export type PresetName = keyof typeof PRESETS;
