/** Checks a recordImpressions batch whole; any bad element fails it with its index (as recordInteractions does). */
import { badInput } from '../../errors.js';
import { validateId } from '../posts/post.validation.js';
import type { EmbeddingSource } from '../types.js';
import { armOf } from './assignment.js';
import type { ExperimentRecord, ExposureRow } from './experiment.types.js';

export interface ImpressionInput {
  /** The experiment named by the recommendation (Recommendation.experiment). */
  experiment: string;
  userId: string;
  postId: string;
  /** 0-based position at which the client displayed the post. */
  position: number;
  /** When it was displayed; defaults to now. */
  shownAt?: Date | null;
  /** The source the recommendation named (Recommendation.source), if the client kept it. */
  source?: string | null;
}

const SOURCES: readonly EmbeddingSource[] = ['MEMER', 'MATURE', 'GLOBAL_AVG', 'TAG_AVG', 'RANDOM'];

export function normalizeImpressions(
  inputs: readonly ImpressionInput[],
  experiments: ReadonlyMap<string, ExperimentRecord>,
  posts: ReadonlyMap<string, number>,
  now: Date,
): ExposureRow[] {
  return inputs.map((x, i): ExposureRow => {
    const at = `inputs[${i}]`;
    const e = experiments.get(x.experiment);
    if (!e) throw badInput(`${at}.experiment: no experiment named ${JSON.stringify(x.experiment)}`, { path: `${at}.experiment`, index: i });
    if (e.status === 'DRAFT') throw badInput(`${at}.experiment: ${e.name} has not started`, { path: `${at}.experiment`, index: i });
    validateId('user', x.userId, `${at}.userId`);
    const postKey = posts.get(x.postId);
    if (postKey === undefined) throw badInput(`${at}.postId: unknown post ${JSON.stringify(x.postId)}`, { path: `${at}.postId`, index: i });
    if (!Number.isInteger(x.position) || x.position < 0) throw badInput(`${at}.position must be an integer >= 0, got ${x.position}`, { path: `${at}.position`, index: i });
    const shownAt = x.shownAt ?? now;
    if (Number.isNaN(shownAt.getTime())) throw badInput(`${at}.shownAt is not a valid date`, { path: `${at}.shownAt`, index: i });
    if (e.stoppedAt && shownAt > e.stoppedAt) throw badInput(`${at}.shownAt: ${e.name} stopped at ${e.stoppedAt.toISOString()}`, { path: `${at}.shownAt`, index: i });
    const source = x.source ?? null;
    if (source !== null && !SOURCES.includes(source as EmbeddingSource)) throw badInput(`${at}.source: expected one of ${SOURCES.join(', ')}, got ${JSON.stringify(source)}`, { path: `${at}.source`, index: i });
    const arm = armOf(e.name, e.arms, x.userId);
    if (!arm) throw badInput(`${at}.userId: user ${JSON.stringify(x.userId)} is not in experiment ${e.name} (outside its arms' shares)`, { path: `${at}.userId`, index: i });
    return { experimentKey: e.key, userId: x.userId, arm: arm.ordinal, origin: 'CLIENT', servedAt: shownAt, position: x.position, postKeys: [postKey], sources: [source as EmbeddingSource | null] };
  });
}
