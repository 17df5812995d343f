/**
 * The cost model of the query limits (MEMER_MAX_COST): roughly the objects a request makes the server produce,
 * counted before it runs (graphql-query-complexity calls this once per field, innermost first).
 *  - A field returning objects costs 1 plus its selection; a scalar or enum field (a vector included) costs nothing.
 *  - A field with `first` (posts, users, recommendations) returns up to `first` of them: first x (1 + selection).
 *  - A batch mutation (registerPosts, recordInteractions, upsertUsers) does the work of its inputs: n x (1 + selection).
 *  - `first` and batch sizes count up to the service's own bounds (MAX_PAGE, MEMER_MAX_RECOMMENDATIONS,
 *    MEMER_MAX_BATCH), and from 1: past a bound the field fails cheaply with BAD_USER_INPUT, the more useful answer.
 *  - Other lists are small and fixed by the schema (signals, baselines, servingSources, the edges of a connection,
 *    already counted by its `first`) and count once.
 * So recommendations(first: 500) { post { id maturity embedding baselines servingSources } } costs 500 x 6 = 3,000,
 * and 200 aliased posts(first: 100) { edges { node { embedding { vector } } } } cost 200 x 100 x 4 = 80,000.
 */
import { getNamedType, isCompositeType } from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { MAX_PAGE } from '../domain/pagination.js';

export interface CostBounds {
  maxRecommendations: number;
  maxBatch: number;
}

/** The largest `first` each field serves, by `Type.field`; a field not named here counts its `first` as given. */
function firstBounds(bounds: CostBounds): ReadonlyMap<string, number> {
  return new Map([
    ['Query.posts', MAX_PAGE],
    ['Query.users', MAX_PAGE],
    ['Query.recommendations', bounds.maxRecommendations],
  ]);
}

const clamp = (n: number, max: number) => Math.max(1, Math.min(n, max));

export function costEstimator(bounds: CostBounds): ComplexityEstimator {
  const firstBound = firstBounds(bounds);
  return ({ type, field, args, childComplexity }) => {
    const own = isCompositeType(getNamedType(field.type)) ? 1 : 0;
    let times = 1;
    if (typeof args.first === 'number') times = clamp(args.first, firstBound.get(`${type.name}.${field.name}`) ?? Number.MAX_SAFE_INTEGER);
    else if (Array.isArray(args.inputs)) times = clamp(args.inputs.length, bounds.maxBatch);
    return times * (own + childComplexity);
  };
}

/**
 * What costEstimator reads of a request's variables, and nothing else: numbers (a `first`) and list lengths (a
 * batch's `inputs`); strings and the elements of lists never change a cost. Two requests of one document whose
 * variables have the same shape cost the same, so the cost walk, which coerces every variable (for a batch of 1,000
 * interactions a third of the server's CPU in `memer bench ingest`), runs once per shape. Keep this in step with the
 * estimator: an argument it starts reading must keep its value here.
 */
export function costShape(value: unknown): unknown {
  if (Array.isArray(value)) return { length: value.length };
  if (typeof value === 'string') return '';
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = costShape((value as Record<string, unknown>)[k]);
    return out;
  }
  return value ?? null;
}
