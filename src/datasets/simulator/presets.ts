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
} as const satisfies Record<string, SimulatorOverrides>;

export type PresetName = keyof typeof PRESETS;
