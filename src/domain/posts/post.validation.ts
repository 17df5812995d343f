/**
 * Checks and normalises a post registration before anything is written: id, tags (MEMER_MAX_TAGS, MEMER_MAX_TAG_LENGTH) and text within limits, a feature
 * vector per accepted modality of the expected length (feature-widths.ts) with finite values inside float16's range (features are stored
 * as float16). The payload hash is taken over the normalised, quantised form, so a retry with the same numbers is
 * recognised as the same registration.
 */
import { createHash } from 'node:crypto';
import { defaults } from '../../config/config.js';
import { halfToNumber, toHalf } from '../../lib/float16.js';
import { badInput, quote } from '../../errors.js';
import { Halves, type FloatValues } from '../../lib/packed-floats.js';
import { bytesOf } from '../../lib/vectors.js';
import { mediaTypeNames, modalityNames, type MediaType, type Modality } from '../types.js';
import type { FeatureRules } from './feature-widths.js';

export const LIMITS = Object.freeze({
  idLength: 128,
  /** Defaults of the configurable limits (MEMER_MAX_TAGS, MEMER_MAX_TAG_LENGTH: FeatureRules.limits). */
  tags: defaults.maxTags,
  tagLength: defaults.maxTagLength,
  textLength: 10_000,
  /** Largest magnitude float16 can hold. */
  featureMagnitude: 65504,
});

export interface PostInput {
  id: string;
  mediaType: MediaType;
  tags?: string[] | null;
  text?: string | null;
  createdAt?: Date | null;
  features?: Partial<Record<FeatureName, FloatValues | readonly number[] | null>> | null;
  /**
   * Set when some features were computed by the service's extractors (domain/media) from the post's raw media (its
   * sha256 `digest`) or its text: the payload hash covers what they were computed from instead of the vectors, so a
   * retry with the same file and text is the same registration even where the extractors' floats differ in the last
   * bits (another machine, another provider).
   */
  derived?: { features: readonly FeatureName[]; digest: string | null } | null;
}

export type FeatureName = 'visual' | 'audio' | 'text' | 'aux';

export interface NormalizedPost {
  externalId: string;
  mediaType: MediaType;
  tags: string[];
  text: string;
  createdAt: Date;
  /** `halves`: the values as float16 bits; `data`: their stored bytes (a view on them). */
  features: { modality: Modality; dim: number; halves: Uint16Array; data: Uint8Array<ArrayBuffer> }[];
  payloadHash: string;
}

const ID_PATTERN = /^[\x21-\x7e]+$/;

export function validateId(kind: string, id: string, path: string): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > LIMITS.idLength || !ID_PATTERN.test(id)) {
    throw badInput(`${kind} id must be 1-${LIMITS.idLength} printable ASCII characters without spaces, got ${quote(id)}`, { path });
  }
  return id;
}

/**
 * `rules`: the widths to check against (FeatureWidths.current() when serving; a Config, whose `features` are then
 * binding, also fits).
 */
export function normalizePost(input: PostInput, rules: FeatureRules, path = 'input', now = new Date()): NormalizedPost {
  const externalId = validateId('post', input.id, `${path}.id`);
  const tags = [...new Set((input.tags ?? []).map((t) => t.trim().toLowerCase()))].sort();
  const maxTags = rules.limits?.tags ?? LIMITS.tags;
  const maxTagLength = rules.limits?.tagLength ?? LIMITS.tagLength;
  if (tags.length > maxTags) throw badInput(`at most ${maxTags} tags per post (MEMER_MAX_TAGS), got ${tags.length}`, { path: `${path}.tags` });
  for (const t of tags) if (t.length === 0 || t.length > maxTagLength) throw badInput(`tags must be 1-${maxTagLength} characters (MEMER_MAX_TAG_LENGTH), got ${quote(t)}`, { path: `${path}.tags` });
  const text = input.text ?? '';
  if (text.length > LIMITS.textLength) throw badInput(`text is longer than ${LIMITS.textLength} characters`, { path: `${path}.text` });
  const createdAt = input.createdAt ?? now;
  if (Number.isNaN(createdAt.getTime())) throw badInput('createdAt is not a valid date', { path: `${path}.createdAt` });

  const media = mediaTypeNames[input.mediaType];
  const expected = rules.features[media];
  const features: NormalizedPost['features'] = [];
  const hash = createHash('sha256');
  const derived = new Set<string>(input.derived?.features ?? []);
  for (const modality of Object.keys(modalityNames) as Modality[]) {
    const name = modalityNames[modality];
    const values = input.features?.[name];
    if (values == null) continue;
    const at = `${path}.features.${name}`;
    const dim = expected[name];
    if (!dim) throw badInput(`${name} features are not accepted for ${input.mediaType} posts`, { path: at });
    if (values.length !== dim) {
      const from = rules.origin?.[media]?.[name];
      throw badInput(`${name} features of ${input.mediaType === 'IMAGE' ? 'an' : 'a'} ${input.mediaType} post must have ${dim} values, got ${values.length}${from ? ` (${from})` : ''}`, { path: at, expected: dim, got: values.length });
    }
    const halves = values instanceof Halves ? checkHalves(values.bits, name, at) : quantize(values, name, at);
    const data = bytesOf(halves);
    features.push({ modality, dim, halves, data });
    if (!derived.has(name)) hash.update(name).update(data);
  }
  // A registration without createdAt means "now": leave it out of the hash so that its retry still matches.
  const identity: unknown[] = [externalId, input.mediaType, tags, text, input.createdAt ? createdAt.toISOString() : null];
  if (input.derived) identity.push(input.derived.digest, [...derived].sort());
  hash.update(JSON.stringify(identity));
  return { externalId, mediaType: input.mediaType, tags, text, createdAt, features, payloadHash: hash.digest('hex') };
}

const outOfRange = (name: string, i: number, x: number, path: string) =>
  badInput(`${name}[${i}] must be a finite number within +-${LIMITS.featureMagnitude}, got ${x}`, { path });

/** Float values checked (finite, within float16's range) and rounded to float16 bits, in one pass. */
function quantize(values: ArrayLike<number>, name: string, path: string): Uint16Array {
  const halves = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x !== 'number' || !(Math.abs(x) <= LIMITS.featureMagnitude)) throw outOfRange(name, i, x, path); // NaN fails the comparison
    halves[i] = toHalf(x);
  }
  return halves;
}

/** Packed float16 bits: every finite half is within range, so only infinities and NaN (exponent all ones) are refused. */
function checkHalves(bits: Uint16Array, name: string, path: string): Uint16Array {
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7c00) === 0x7c00) throw outOfRange(name, i, halfToNumber(bits[i]), path);
  return bits;
}
