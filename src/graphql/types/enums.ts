import { registerEnumType } from 'type-graphql';

export const MediaType = { VIDEO: 'VIDEO', IMAGE: 'IMAGE' } as const;
export type MediaType = keyof typeof MediaType;
registerEnumType(MediaType, { name: 'MediaType', description: 'Kind of post: signals and feature dimensions differ by media type.' });

export const EmbeddingSource = { AUTO: 'AUTO', MEMER: 'MEMER', MATURE: 'MATURE', GLOBAL_AVG: 'GLOBAL_AVG', TAG_AVG: 'TAG_AVG', RANDOM: 'RANDOM' } as const;
export type EmbeddingSource = keyof typeof EmbeddingSource;
registerEnumType(EmbeddingSource, {
  name: 'EmbeddingSource',
  description: 'Where an embedding comes from. AUTO picks MATURE past the maturity threshold, else MEMER, else TAG_AVG, else GLOBAL_AVG.',
  valuesConfig: {
    AUTO: { description: 'Let the service choose (see the type description).' },
    MEMER: { description: 'Predicted from the content features by the MEMER model.' },
    MATURE: { description: 'Learnt by the FFM backbone from interactions (posts past the maturity threshold).' },
    GLOBAL_AVG: { description: 'Mean of all mature post embeddings of the signal.' },
    TAG_AVG: { description: "Mean of the mature embeddings of the post's tags." },
    RANDOM: { description: 'N(0, 1/d), deterministic per post and signal.' },
  },
});

export const MaturityStatus = { EARLY: 'EARLY', MATURE: 'MATURE' } as const;
export type MaturityStatus = keyof typeof MaturityStatus;
registerEnumType(MaturityStatus, { name: 'MaturityStatus' });

export const SignalKind = { EXPLICIT: 'EXPLICIT', IMPLICIT: 'IMPLICIT' } as const;
registerEnumType(SignalKind, { name: 'SignalKind' });

export const ModelKind = { FFM: 'FFM', MEMER: 'MEMER' } as const;
registerEnumType(ModelKind, { name: 'ModelKind' });

/** Every registered version is READY (training registers a version once its artefacts are written); `active` says which serve. */
export const ModelStatus = { READY: 'READY' } as const;
registerEnumType(ModelStatus, { name: 'ModelStatus' });
