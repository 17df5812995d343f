import { DateTimeResolver } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EmbeddingSource } from './enums.js';

export const ExperimentStatus = { DRAFT: 'DRAFT', RUNNING: 'RUNNING', STOPPED: 'STOPPED' } as const;
export type ExperimentStatus = keyof typeof ExperimentStatus;
registerEnumType(ExperimentStatus, {
  name: 'ExperimentStatus',
  valuesConfig: {
    DRAFT: { description: 'Created with start: false; startExperiment starts it.' },
    RUNNING: { description: 'Users are assigned to its arms and their impressions logged.' },
    STOPPED: { description: 'Over (final); its report stays available.' },
  },
});

type Source = keyof typeof EmbeddingSource;

@ObjectType({ description: "One arm of an experiment: its share of users and the source that ranks its early-stage posts." })
export class ExperimentArm {
  @Field(() => String)
  name!: string;

  @Field(() => Float, { description: 'Fraction of all users in this arm.' })
  share!: number;

  @Field(() => EmbeddingSource, {
    description: "Ranks the arm's early-stage posts: MEMER as AUTO does (the MEMER vector, else TAG_AVG, else GLOBAL_AVG); TAG_AVG (else GLOBAL_AVG), GLOBAL_AVG or RANDOM for every early-stage post. Mature posts keep their MATURE embedding in every arm.",
  })
  source!: Source;

  @Field(() => Boolean, { description: 'The first arm is the control the others are compared with.' })
  control!: boolean;
}

@ObjectType({ description: "An online experiment (A/B test) on the ranking of early-stage posts in one signal's recommendations." })
export class Experiment {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The signal whose recommendations it ranks; at most one experiment runs per signal.' })
  signal!: string;

  @Field(() => ExperimentStatus)
  status!: ExperimentStatus;

  @Field(() => [ExperimentArm], { description: 'In order; the first is the control.' })
  arms!: ExperimentArm[];

  @Field(() => Int, { description: 'How long after an impression an interaction with the post counts towards it.' })
  attributionWindowSeconds!: number;

  @Field(() => String)
  description!: string;

  @Field(() => DateTimeResolver)
  createdAt!: Date;

  @Field(() => DateTimeResolver, { nullable: true })
  startedAt!: Date | null;

  @Field(() => DateTimeResolver, { nullable: true })
  stoppedAt!: Date | null;
}

@ObjectType({ description: "A user's arm in a running experiment." })
export class ExperimentAssignment {
  @Field(() => String, { description: 'The experiment.' })
  name!: string;

  @Field(() => String)
  signal!: string;

  @Field(() => String)
  arm!: string;

  @Field(() => EmbeddingSource, { description: "The arm's source for early-stage posts." })
  source!: Source;
}

@InputType()
export class ExperimentArmInput {
  @Field(() => String, { description: '1-64 letters, digits, "_", "." or "-".' })
  name!: string;

  @Field(() => Float, { description: 'Fraction of all users in (0, 1]; the shares sum to at most 1 (users past the sum are in no arm).' })
  share!: number;

  @Field(() => EmbeddingSource, { description: 'MEMER, TAG_AVG, GLOBAL_AVG or RANDOM (see ExperimentArm.source).' })
  source!: Source;
}

@InputType()
export class CreateExperimentInput {
  @Field(() => String, { description: '1-100 letters, digits, "_", "." or "-"; creating the same experiment again returns it.' })
  name!: string;

  @Field(() => String)
  signal!: string;

  @Field(() => [ExperimentArmInput], { description: '2 to 16 arms; the first is the control.' })
  arms!: ExperimentArmInput[];

  @Field(() => Int, { nullable: true, description: 'Default 86400 (a day); at most 90 days.' })
  attributionWindowSeconds?: number | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Start at once (default); false creates a DRAFT.' })
  start?: boolean | null;
}

@InputType({ description: 'An impression the client displayed (it takes precedence over the ones the service logged for that user).' })
export class ImpressionInput {
  @Field(() => String, { description: 'Recommendation.experiment of the displayed recommendation.' })
  experiment!: string;

  @Field(() => ID)
  userId!: string;

  @Field(() => ID)
  postId!: string;

  @Field(() => Int, { description: '0-based position at which it was displayed.' })
  position!: number;

  @Field(() => DateTimeResolver, { nullable: true, description: 'Defaults to now.' })
  shownAt?: Date | null;

  @Field(() => EmbeddingSource, { nullable: true, description: 'Recommendation.source, if kept.' })
  source?: Source | null;
}

@ObjectType()
export class RecordImpressionsResult {
  @Field(() => Int)
  recorded!: number;
}

@ObjectType({ description: 'One metric of one arm: count / views, with a 95% interval, and its relative gain over the control.' })
export class ExperimentMetric {
  @Field(() => String, {
    description:
      "ctr (click), engagements_per_view (like + share + favorite), plays_per_view (video_play), skips_per_view (skip), interactions_per_view (every signal), then one per signal, named by it, then clicks_per_user (clicks over the arm's users; in a tag's row, that tag's clicks per arm user: its reach). A 'view' is an impression of a post the signals apply to (plays and skips: video impressions).",
  })
  metric!: string;

  @Field(() => [String])
  signals!: string[];

  @Field(() => Int, { description: 'Impressions converted (per signal, at most once each), summed over the signals.' })
  count!: number;

  @Field(() => Int, { description: "The denominator: impressions of the media types the signals apply to; for clicks_per_user, the arm's users." })
  views!: number;

  @Field(() => Float, { nullable: true, description: 'count / views; null without views.' })
  value!: number | null;

  @Field(() => Float, { nullable: true, description: '95% interval of value (delta method over users).' })
  low!: number | null;

  @Field(() => Float, { nullable: true })
  high!: number | null;

  @Field(() => Float, { nullable: true, description: "value / control's value - 1; null for the control, or when the control's value is 0." })
  gain!: number | null;

  @Field(() => Float, { nullable: true, description: '95% interval of gain (delta method over users).' })
  gainLow!: number | null;

  @Field(() => Float, { nullable: true })
  gainHigh!: number | null;
}

@ObjectType()
export class ExperimentArmResult {
  @Field(() => String)
  arm!: string;

  @Field(() => Boolean)
  control!: boolean;

  @Field(() => EmbeddingSource)
  source!: Source;

  @Field(() => Float)
  share!: number;

  @Field(() => Int, { description: 'Users with at least one impression.' })
  users!: number;

  @Field(() => Int)
  impressions!: number;

  @Field(() => Int)
  videoImpressions!: number;

  @Field(() => Int)
  imageImpressions!: number;

  @Field(() => [ExperimentMetric])
  metrics!: ExperimentMetric[];
}

@ObjectType()
export class ArmShare {
  @Field(() => String)
  arm!: string;

  @Field(() => Int)
  users!: number;

  @Field(() => Float, { description: "The arm's share among the experiment's arms." })
  expectedShare!: number;

  @Field(() => Float)
  observedShare!: number;
}

@ObjectType({ description: "Sample-ratio-mismatch check: Pearson's chi-square of users per arm against the arms' shares." })
export class SampleRatioCheck {
  @Field(() => Float)
  chiSquare!: number;

  @Field(() => Int)
  degreesOfFreedom!: number;

  @Field(() => Float)
  pValue!: number;

  @Field(() => Float, { description: 'mismatch is pValue < threshold.' })
  threshold!: number;

  @Field(() => Boolean, { description: 'True: users did not split as configured (assignment or logging is broken); do not trust the comparison.' })
  mismatch!: boolean;

  @Field(() => [ArmShare])
  arms!: ArmShare[];
}

@ObjectType({ description: 'The results restricted to impressions of posts with one tag (the per-genre breakdown, paper Figure 3).' })
export class ExperimentTagResult {
  @Field(() => String)
  tag!: string;

  @Field(() => Int)
  impressions!: number;

  @Field(() => [ExperimentArmResult])
  arms!: ExperimentArmResult[];
}

@ObjectType({ description: "An experiment's outcomes per arm (paper Table 3) and per tag (Figure 3), with intervals." })
export class ExperimentReport {
  @Field(() => Experiment)
  experiment!: Experiment;

  @Field(() => Int)
  attributionWindowSeconds!: number;

  @Field(() => DateTimeResolver)
  generatedAt!: Date;

  @Field(() => [ExperimentArmResult], { description: 'In arm order; the first is the control.' })
  arms!: ExperimentArmResult[];

  @Field(() => SampleRatioCheck)
  sampleRatio!: SampleRatioCheck;

  @Field(() => [ExperimentTagResult], { description: 'The 30 most shown tags, most shown first.' })
  tags!: ExperimentTagResult[];

  @Field(() => Int, { description: 'Impressions clients reported (recordImpressions) that were counted.' })
  clientImpressions!: number;

  @Field(() => Int, { description: 'Logged impressions not counted because the same users reported their own.' })
  replacedServedImpressions!: number;

  @Field(() => Int, { description: 'Logged impressions the exposure log dropped because its buffer was full.' })
  droppedImpressions!: number;
}
