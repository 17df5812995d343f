/** The metadata byte of a recommendation index row: bit 0 = media type (0 video, 1 image), bits 1-3 = serving source. */
import { MEDIA_BY_INDEX, type EmbeddingSource, type MediaType } from '../types.js';

const SOURCES: readonly EmbeddingSource[] = ['MEMER', 'MATURE', 'GLOBAL_AVG', 'TAG_AVG', 'RANDOM'];

export const packMeta = (mediaType: MediaType, source: EmbeddingSource) => MEDIA_BY_INDEX.indexOf(mediaType) | (SOURCES.indexOf(source) << 1);
export const metaMediaType = (meta: number): MediaType => MEDIA_BY_INDEX[meta & 1];
export const metaSource = (meta: number): EmbeddingSource => SOURCES[(meta >> 1) & 7];
