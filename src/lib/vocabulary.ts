/**
 * The dataset-level vocabulary shared by the configuration, the dataset layer and the ML core: media types and
 * content modalities, in the dataset spelling (lower case). The database and GraphQL spell them in capitals
 * (src/domain/types.ts maps one to the other).
 */

export const MEDIA_TYPES = ['video', 'image'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** The content modalities of the paper (section 2.2) plus auxiliary features, in fusion order. */
export const MODALITIES = ['visual', 'audio', 'text', 'aux'] as const;
export type Modality = (typeof MODALITIES)[number];
