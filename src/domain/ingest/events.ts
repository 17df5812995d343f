/**
 * The interaction event platforms publish (memer ingest), turned into recordInteractions' input. Only the JSON shape
 * is checked here (an object, string ids, a number label, a string date): what the values may be (id formats, known
 * post and signal, label 0 or 1, a valid date) is InteractionsService's validation, the mutation's own.
 */
import type { InteractionInput } from '../interactions/interactions.service.js';

export type ParsedEvent = { ok: true; input: InteractionInput } | { ok: false; reason: string };

/** `at` and `value` are accepted for `timestamp` and `label` (the names some producers use). */
export function parseEvent(data: string | null): ParsedEvent {
  if (data === null) return { ok: false, reason: 'no event payload (a Redis entry carries it in its field "data")' };
  let e: unknown;
  try {
    e = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return { ok: false, reason: 'not a JSON object' };
  const o = e as Record<string, unknown>;
  for (const f of ['id', 'userId', 'postId', 'signal']) if (typeof o[f] !== 'string') return { ok: false, reason: `${f} must be a string` };
  const label = o.label ?? o.value;
  if (label != null && typeof label !== 'number') return { ok: false, reason: 'label must be a number' };
  const at = o.timestamp ?? o.at;
  if (at != null && typeof at !== 'string') return { ok: false, reason: 'timestamp must be an ISO 8601 string' };
  return {
    ok: true,
    input: { eventId: o.id as string, userId: o.userId as string, postId: o.postId as string, signal: o.signal as string, label: label as number | null, timestamp: at == null ? null : new Date(at as string) },
  };
}
