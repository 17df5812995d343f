import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { experimentView as toExperiment, reportView } from '../../domain/experiments/views.js';
import type { Context } from '../context.js';
import {
  CreateExperimentInput,
  Experiment,
  ExperimentAssignment,
  ExperimentReport,
  ExperimentStatus,
  ImpressionInput,
  RecordImpressionsResult,
} from '../types/experiment.type.js';
import { User } from '../types/user.type.js';

@Resolver()
export class ExperimentResolver {
  @Query(() => [Experiment], { description: 'Experiments, newest first.' })
  async experiments(
    @Ctx() ctx: Context,
    @Arg('status', () => ExperimentStatus, { nullable: true }) status?: ExperimentStatus | null,
    @Arg('signal', () => String, { nullable: true }) signal?: string | null,
  ): Promise<Experiment[]> {
    return (await ctx.services.experiments.list({ status, signal })).map(toExperiment);
  }

  @Query(() => Experiment, { nullable: true })
  async experiment(@Arg('name', () => String) name: string, @Ctx() ctx: Context): Promise<Experiment | null> {
    const e = await ctx.services.experiments.get(name);
    return e && toExperiment(e);
  }

  @Query(() => ExperimentReport, {
    description:
      "The outcomes so far: per arm, impressions joined to the users' positive interactions with the posts within the attribution window, as rates with 95% intervals and relative gains over the control (delta method over users), a sample-ratio-mismatch check, and the per-tag breakdown. Counts this process's queued impressions; other replicas' reach it within a second.",
  })
  async experimentReport(
    @Arg('name', () => String) name: string,
    @Ctx() ctx: Context,
    @Arg('attributionWindowSeconds', () => Int, { nullable: true, description: "Overrides the experiment's window." }) attributionWindowSeconds?: number | null,
  ): Promise<ExperimentReport> {
    return reportView(await ctx.services.experiments.report(name, { attributionWindowSeconds }));
  }

  @Authorized('admin')
  @Mutation(() => Experiment, {
    description:
      "Create an experiment (started unless start is false). At most one experiment runs per signal: CONFLICT (extensions.running) otherwise. Users are assigned by a hash of (experiment name, user id): every replica agrees, and a user keeps their arm. Other replicas pick it up within MEMER_REFRESH_MS.",
  })
  async createExperiment(@Arg('input', () => CreateExperimentInput) input: CreateExperimentInput, @Ctx() ctx: Context): Promise<Experiment> {
    return toExperiment(await ctx.services.experiments.create(input));
  }

  @Authorized('admin')
  @Mutation(() => Experiment, { description: 'Start a DRAFT experiment (CONFLICT if another runs for its signal, or it was stopped).' })
  async startExperiment(@Arg('name', () => String) name: string, @Ctx() ctx: Context): Promise<Experiment> {
    return toExperiment(await ctx.services.experiments.start(name));
  }

  @Authorized('admin')
  @Mutation(() => Experiment, { description: 'Stop an experiment for good: its users get AUTO rankings again; its report stays available.' })
  async stopExperiment(@Arg('name', () => String) name: string, @Ctx() ctx: Context): Promise<Experiment> {
    return toExperiment(await ctx.services.experiments.stop(name));
  }

  @Authorized('write')
  @Mutation(() => RecordImpressionsResult, {
    description:
      "Impressions the client actually displayed. For a user with reported impressions, the report counts those instead of the ones the service logged. Any invalid element fails the whole batch.",
  })
  async recordImpressions(@Arg('inputs', () => [ImpressionInput]) inputs: ImpressionInput[], @Ctx() ctx: Context): Promise<RecordImpressionsResult> {
    return ctx.services.experiments.recordImpressions(inputs);
  }
}

@Resolver(() => User)
export class UserExperimentsResolver {
  @FieldResolver(() => [ExperimentAssignment], { description: 'The running experiments the user is in, with their arm (a hash of experiment and user id: no query).' })
  async experiments(@Root() user: User, @Ctx() ctx: Context): Promise<ExperimentAssignment[]> {
    return (await ctx.services.experiments.assignments(user.id)).map((a) => ({ name: a.experiment, signal: a.signal, arm: a.arm.name, source: a.arm.source }));
  }
}
