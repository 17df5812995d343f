/**
 * Deterministic assignment: a user's arm is a function of (experiment name, user id) alone, so every replica and every
 * process agrees without shared state, and a user keeps their arm for the experiment's life. The point in [0, 1) is
 * the first 48 bits of sha256(name NUL userId); arms take consecutive intervals of it by their shares, in ordinal
 * order, and a point past the shares' sum is outside the experiment. O(arms) per call, a few microseconds.
 */
import { createHash } from 'node:crypto';
import type { ArmRecord } from './experiment.types.js';

const SCALE = 2 ** 48;

/** The user's point in [0, 1) for an experiment. */
export function bucketOf(experiment: string, userId: string): number {
  return createHash('sha256').update(`${experiment}\u0000${userId}`).digest().readUIntBE(0, 6) / SCALE;
}

/** The user's arm, or null when the user falls outside the arms' shares. */
export function armOf(experiment: string, arms: readonly ArmRecord[], userId: string): ArmRecord | null {
  const point = bucketOf(experiment, userId);
  let upTo = 0;
  for (const arm of arms) {
    upTo += arm.share;
    if (point < upTo) return arm;
  }
  return null;
}
