/**
 * The experiment report (paper Table 3, and Figure 3's per-genre breakdown): per arm the users and impressions, and per
 * metric the attributed count, its denominator, the rate with a 95% interval, and the relative gain over the control
 * arm with a 95% interval (delta method over users, statistics.ts); a sample-ratio-mismatch check of users per arm.
 *
 * Metrics: a rate is (impressions converted on the metric's signals) / (impressions of the media types they apply to),
 * so plays and skips are per video impression. The paper's four where their signals exist (ctr: click;
 * engagements_per_view: like + share + favorite; plays_per_view: video_play; skips_per_view: skip), then
 * interactions_per_view (every signal), then one per signal, named by it; and clicks_per_user: clicks over the arm's
 * users (all of them, also in a tag's row: that tag's clicks per arm user). A tag's CTR compares the users each arm
 * showed the tag to, which differ when one arm shows it far more widely; clicks per user compares whole arms, so it
 * says whether a genre gained or lost engagement in all (its reach), beside how well each impression did.
 */
import type { MediaType } from '../types.js';
import type { ArmSource, ExperimentRecord } from './experiment.types.js';
import type { Outcomes, Segment, UserOutcome } from './outcomes.js';
import { rateInterval, ratio, relativeGain, sampleRatio, SRM_THRESHOLD, type Ratio, type SampleRatio } from './statistics.js';

export interface MetricResult {
  metric: string;
  signals: string[];
  /** Impression-signal pairs converted. */
  count: number;
  /** The denominator: impressions of the media types the signals apply to; for a *_per_user metric, the arm's users. */
  views: number;
  value: number | null;
  low: number | null;
  high: number | null;
  /** Relative to the control arm (null for the control itself). */
  gain: number | null;
  gainLow: number | null;
  gainHigh: number | null;
}

export interface ArmResult {
  arm: string;
  control: boolean;
  source: ArmSource;
  share: number;
  users: number;
  impressions: number;
  videoImpressions: number;
  imageImpressions: number;
  metrics: MetricResult[];
}

export interface SegmentResult {
  tag: string;
  impressions: number;
  arms: ArmResult[];
}

export interface SampleRatioResult extends SampleRatio {
  threshold: number;
  arms: { arm: string; users: number; expectedShare: number; observedShare: number }[];
}

export interface ExperimentReport {
  experiment: ExperimentRecord;
  attributionWindowSeconds: number;
  generatedAt: Date;
  arms: ArmResult[];
  sampleRatio: SampleRatioResult;
  tags: SegmentResult[];
  clientImpressions: number;
  replacedServedImpressions: number;
  droppedImpressions: number;
}

interface MetricDef {
  metric: string;
  /** Slots into Outcomes.signals. */
  slots: number[];
  media: Set<MediaType>;
  /** Denominator: the impressions of `media`, or every user of the arm. */
  per: 'view' | 'user';
}

const TABLE3: readonly { metric: string; signals: readonly string[] }[] = [
  { metric: 'ctr', signals: ['click'] },
  { metric: 'engagements_per_view', signals: ['like', 'share', 'favorite'] },
  { metric: 'plays_per_view', signals: ['video_play'] },
  { metric: 'skips_per_view', signals: ['skip'] },
];

export function metricDefs(signals: Outcomes['signals']): MetricDef[] {
  const def = (metric: string, slots: number[], per: MetricDef['per'] = 'view'): MetricDef => ({ metric, slots, media: new Set(slots.flatMap((s) => signals[s].mediaTypes)), per });
  const slotOf = new Map(signals.map((s, i) => [s.name, i]));
  const out: MetricDef[] = [];
  for (const t of TABLE3) {
    const slots = t.signals.map((s) => slotOf.get(s)).filter((s): s is number => s !== undefined);
    if (slots.length) out.push(def(t.metric, slots));
  }
  if (signals.length) out.push(def('interactions_per_view', signals.map((_, i) => i)));
  for (let i = 0; i < signals.length; i++) out.push(def(signals[i].name, [i]));
  const click = slotOf.get('click');
  if (click !== undefined) out.push(def('clicks_per_user', [click], 'user'));
  return out;
}

function usersByArm(experiment: ExperimentRecord, segment: Segment): UserOutcome[][] {
  const byArm = experiment.arms.map(() => [] as UserOutcome[]);
  for (const u of segment.users.values()) byArm[u.arm]?.push(u);
  return byArm;
}

/** `population`: every user of each arm (the overall segment's), the denominator of the *_per_user metrics. */
function armResults(experiment: ExperimentRecord, segment: Segment, defs: MetricDef[], names: string[], population: Segment): ArmResult[] {
  const byArm = usersByArm(experiment, segment);
  const members = experiment.arms.map(() => [] as number[]);
  for (const [id, u] of population.users) members[u.arm]?.push(id);
  const ratios = byArm.map((users, a) =>
    defs.map((d): Ratio => {
      const conversions = (u: UserOutcome | undefined) => {
        let c = 0;
        if (u) for (const s of d.slots) c += u.conversions[s];
        return c;
      };
      if (d.per === 'user') {
        // Every arm user counts once; one who never saw the segment's posts converted 0 there.
        return ratio(new Float64Array(members[a].length).fill(1), Float64Array.from(members[a], (id) => conversions(segment.users.get(id))));
      }
      const x = new Float64Array(users.length);
      const y = new Float64Array(users.length);
      users.forEach((u, i) => {
        x[i] = (d.media.has('VIDEO') ? u.video : 0) + (d.media.has('IMAGE') ? u.image : 0);
        y[i] = conversions(u);
      });
      return ratio(x, y);
    }),
  );
  return experiment.arms.map((arm, a) => {
    const users = byArm[a];
    const video = users.reduce((n, u) => n + u.video, 0);
    const image = users.reduce((n, u) => n + u.image, 0);
    return {
      arm: arm.name,
      control: a === 0,
      source: arm.source,
      share: arm.share,
      users: users.length,
      impressions: video + image,
      videoImpressions: video,
      imageImpressions: image,
      metrics: defs.map((d, m) => {
        const r = ratios[a][m];
        const rate = rateInterval(r);
        const gain = a === 0 ? { value: null, low: null, high: null } : relativeGain(r, ratios[0][m]);
        return {
          metric: d.metric,
          signals: d.slots.map((s) => names[s]),
          count: r.sumY,
          views: r.sumX,
          value: rate.value,
          low: rate.low,
          high: rate.high,
          gain: gain.value,
          gainLow: gain.low,
          gainHigh: gain.high,
        };
      }),
    };
  });
}

export function buildReport(experiment: ExperimentRecord, outcomes: Outcomes, attributionWindowSeconds: number, now = new Date()): ExperimentReport {
  const defs = metricDefs(outcomes.signals);
  const names = outcomes.signals.map((s) => s.name);
  const arms = armResults(experiment, outcomes.overall, defs, names, outcomes.overall);
  const srm = sampleRatio(arms.map((a) => a.users), experiment.arms.map((a) => a.share));
  return {
    experiment,
    attributionWindowSeconds,
    generatedAt: now,
    arms,
    sampleRatio: {
      ...srm,
      threshold: SRM_THRESHOLD,
      arms: arms.map((a, i) => ({ arm: a.arm, users: a.users, expectedShare: srm.expected[i], observedShare: srm.observed[i] })),
    },
    tags: outcomes.tags.map((t) => ({ tag: t.tag!, impressions: t.impressions, arms: armResults(experiment, t, defs, names, outcomes.overall) })),
    clientImpressions: outcomes.clientImpressions,
    replacedServedImpressions: outcomes.replacedServed,
    droppedImpressions: experiment.droppedImpressions,
  };
}
