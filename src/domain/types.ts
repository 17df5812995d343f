/** Domain records the services return. `key` is the internal row id: used by loaders, never sent to clients. */
import type { MediaType as DbMediaType, Modality as DbModality, EmbeddingSource, SignalKind } from '../generated/sqlite/enums.js';

export type MediaType = DbMediaType;
export type Modality = DbModality;
export type { EmbeddingSource, SignalKind };

export interface PostRecord {
  key: number;
  id: string;
  mediaType: MediaType;
  tags: string[];
  text: string;
  createdAt: Date;
  registeredAt: Date;
}

export interface UserRecord {
  key: number;
  id: string;
  attributes: Record<string, unknown>;
  createdAt: Date;
}

export interface SignalRecord {
  key: number;
  name: string;
  kind: SignalKind;
  mediaTypes: MediaType[];
  description: string;
}

export const modalityNames = { VISUAL: 'visual', AUDIO: 'audio', TEXT: 'text', AUX: 'aux' } as const satisfies Record<Modality, string>;
export const mediaTypeNames = { VIDEO: 'video', IMAGE: 'image' } as const satisfies Record<MediaType, string>;
/** The database's media types by the dataset layer's media type index (MEDIA_TYPES: 0 video, 1 image). */
export const MEDIA_BY_INDEX: readonly MediaType[] = ['VIDEO', 'IMAGE'];
/** The database's media type of a dataset media type name. */
export const mediaTypeOf = (name: 'video' | 'image'): MediaType => (name === 'video' ? 'VIDEO' : 'IMAGE');
