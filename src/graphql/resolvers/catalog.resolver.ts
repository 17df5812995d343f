import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { MediaType } from '../types/enums.js';
import { MaturityCurve, ModelVersion, Signal } from '../types/signal.type.js';

@Resolver()
export class CatalogResolver {
  @Query(() => [Signal])
  async signals(@Ctx() ctx: Context): Promise<Signal[]> {
    return [...(await ctx.loaders.signals()).values()];
  }

  @Query(() => [ModelVersion], { description: 'Model versions in the registry, newest first.' })
  async models(
    @Ctx() ctx: Context,
    @Arg('signal', () => String, { nullable: true }) signal?: string | null,
    @Arg('activeOnly', () => Boolean, { nullable: true }) activeOnly?: boolean | null,
  ): Promise<ModelVersion[]> {
    return ctx.services.models.list({ signal, activeOnly });
  }

  @Query(() => MaturityCurve, { nullable: true, description: 'The maturity curve and threshold M; null until `memer train` has estimated it.' })
  async maturityCurve(
    @Arg('signal', () => String) signalName: string,
    @Arg('mediaType', () => MediaType) mediaType: MediaType,
    @Ctx() ctx: Context,
  ): Promise<MaturityCurve | null> {
    const signal = await ctx.loaders.signal(signalName);
    const curve = await ctx.services.signals.maturityCurve(signal.key, mediaType);
    return curve && { signal: signal.name, mediaType, ...curve };
  }
}
