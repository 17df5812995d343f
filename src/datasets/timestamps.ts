/**
 * Times in dataset files: epoch seconds (integer or decimal) or ISO-8601 (`2023-01-05`, `2023-01-05T10:20:30Z`,
 * `2023-01-05 10:20:30.5+05:30`). A date-time without an offset is UTC (never the machine's local zone).
 * In memory every time is epoch seconds in a float64.
 */
import type { CsvRecord } from './csv.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch seconds from an ISO-8601 or epoch-seconds string; NaN when it is neither. */
export function parseTime(text: string): number {
  const s = text.trim();
  if (s === '') return NaN;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = ISO.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const normalised = `${y}-${mo}-${d}T${h}:${mi}:${sec}${frac}${zone === 'Z' || zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`}`;
  const ms = Date.parse(normalised);
  if (Number.isNaN(ms)) return NaN;
  // Date.parse rolls 2023-02-30 over to March; reject dates that do not exist.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return NaN;
  return ms / 1000;
}

/** Field i of a record as epoch seconds; digits-only fields take a fast path with no string. NaN when invalid. */
export function recordTime(record: CsvRecord, i: number): number {
  const v = record.number(i);
  if (!Number.isNaN(v)) return v;
  return parseTime(record.text(i));
}

/** ISO-8601 UTC with a `Z`, milliseconds only when non-zero: `2023-01-05T10:20:30Z`. */
export function formatIso(epochSeconds: number): string {
  const iso = new Date(Math.round(epochSeconds * 1000)).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** How a time is written back: ISO when it is a whole number of milliseconds (exact round trip), else epoch seconds. */
export function formatTime(epochSeconds: number): string {
  const ms = epochSeconds * 1000;
  return Number.isInteger(ms) && Math.abs(ms) < 8.64e15 ? formatIso(epochSeconds) : String(epochSeconds);
}
