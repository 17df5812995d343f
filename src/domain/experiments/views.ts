/** The public shape of experiments and reports (GraphQL's types, and `memer experiment ... --json`): no internal keys. */
import type { ExperimentRecord } from './experiment.types.js';
import type { ExperimentReport } from './report.js';

export function experimentView(e: ExperimentRecord) {
  return {
    name: e.name,
    signal: e.signal.name,
    status: e.status,
    arms: e.arms.map((a) => ({ name: a.name, share: a.share, source: a.source, control: a.ordinal === 0 })),
    attributionWindowSeconds: e.attributionWindowS,
    description: e.description,
    createdAt: e.createdAt,
    startedAt: e.startedAt,
    stoppedAt: e.stoppedAt,
  };
}
export type ExperimentView = ReturnType<typeof experimentView>;

export function reportView(r: ExperimentReport) {
  return { ...r, experiment: experimentView(r.experiment) };
}
export type ReportView = ReturnType<typeof reportView>;
