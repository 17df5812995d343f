/** Checks an experiment definition before anything is stored; each mistake is a BAD_USER_INPUT naming its path. */
import { badInput } from '../../errors.js';
import { ARM_SOURCES, type ArmRecord, type ArmSource } from './experiment.types.js';

export interface ArmInput {
  name: string;
  share: number;
  source: string;
}

export interface ExperimentInput {
  name: string;
  signal: string;
  arms: ArmInput[];
  /** Default DEFAULT_ATTRIBUTION_WINDOW_S. */
  attributionWindowSeconds?: number | null;
  description?: string | null;
  /** Start at once (default true); false leaves it a DRAFT for startExperiment. */
  start?: boolean | null;
}

export interface NormalizedExperiment {
  name: string;
  signal: string;
  arms: ArmRecord[];
  attributionWindowS: number;
  description: string;
  start: boolean;
}

export const DEFAULT_ATTRIBUTION_WINDOW_S = 86_400;
export const MAX_ATTRIBUTION_WINDOW_S = 90 * 86_400;
export const MAX_ARMS = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ARM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Shares are floats: a sum within this of 1 is 1. */
const SHARE_SLACK = 1e-9;

export function validateExperimentName(name: string, path = 'name'): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw badInput(`${path}: an experiment name is 1-100 letters, digits, "_", "." or "-", starting with a letter or digit; got ${JSON.stringify(name)}`, { path });
  return name;
}

export function armSourceOf(source: string, path: string): ArmSource {
  if (ARM_SOURCES.includes(source as ArmSource)) return source as ArmSource;
  if (source === 'AUTO') throw badInput(`${path}: use MEMER for the arm that ranks as AUTO does (MEMER, else the tag average, else the global average)`, { path });
  if (source === 'MATURE') throw badInput(`${path}: early-stage posts have no MATURE embedding; choose one of ${ARM_SOURCES.join(', ')}`, { path });
  throw badInput(`${path}: expected one of ${ARM_SOURCES.join(', ')}, got ${JSON.stringify(source)}`, { path });
}

export function normalizeExperiment(input: ExperimentInput, path = 'input'): NormalizedExperiment {
  const name = validateExperimentName(input.name, `${path}.name`);
  if (typeof input.signal !== 'string' || input.signal.length === 0) throw badInput(`${path}.signal: name the signal whose recommendations the experiment ranks`, { path: `${path}.signal` });
  const arms = input.arms ?? [];
  if (arms.length < 2 || arms.length > MAX_ARMS) throw badInput(`${path}.arms: an experiment has 2 to ${MAX_ARMS} arms (the first is the control), got ${arms.length}`, { path: `${path}.arms` });
  const names = new Set<string>();
  let total = 0;
  const normalized = arms.map((arm, ordinal): ArmRecord => {
    const at = `${path}.arms[${ordinal}]`;
    if (typeof arm.name !== 'string' || !ARM_NAME.test(arm.name)) throw badInput(`${at}.name: an arm name is 1-64 letters, digits, "_", "." or "-", got ${JSON.stringify(arm.name)}`, { path: `${at}.name`, index: ordinal });
    if (names.has(arm.name)) throw badInput(`${at}.name: two arms are named ${JSON.stringify(arm.name)}`, { path: `${at}.name`, index: ordinal });
    names.add(arm.name);
    if (typeof arm.share !== 'number' || !Number.isFinite(arm.share) || arm.share <= 0 || arm.share > 1) throw badInput(`${at}.share: a share is a fraction of all users in (0, 1], got ${arm.share}`, { path: `${at}.share`, index: ordinal });
    total += arm.share;
    return { ordinal, name: arm.name, share: arm.share, source: armSourceOf(arm.source, `${at}.source`) };
  });
  if (total > 1 + SHARE_SLACK) throw badInput(`${path}.arms: the shares sum to ${Number(total.toFixed(6))}, more than 1`, { path: `${path}.arms` });
  const window = input.attributionWindowSeconds ?? DEFAULT_ATTRIBUTION_WINDOW_S;
  if (!Number.isInteger(window) || window < 1 || window > MAX_ATTRIBUTION_WINDOW_S) {
    throw badInput(`${path}.attributionWindowSeconds: an integer from 1 to ${MAX_ATTRIBUTION_WINDOW_S} (90 days), got ${window}`, { path: `${path}.attributionWindowSeconds` });
  }
  const description = input.description ?? '';
  if (description.length > 2000) throw badInput(`${path}.description: at most 2,000 characters`, { path: `${path}.description` });
  return { name, signal: input.signal, arms: normalized, attributionWindowS: window, description, start: input.start ?? true };
}
