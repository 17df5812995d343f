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

/** Field i of a record as epoch seconds; epoch digits and `YYYY-MM-DD[T ]HH:MM:SS[Z]` take byte-level fast paths. */
export function recordTime(record: CsvRecord, i: number): number {
  const s = record.start(i);
  if (record.bytes[s + 4] === 0x2d) {
    const fast = isoBytes(record.bytes, s, record.end(i));
    return Number.isNaN(fast) ? parseTime(record.text(i)) : fast;
  }
  const v = record.number(i);
  return Number.isNaN(v) ? parseTime(record.text(i)) : v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The common fixed-width ISO forms without creating a string; NaN for anything else (the slow path decides). */
function isoBytes(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len !== 19 && !(len === 20 && b[s + 19] === 0x5a)) return NaN;
  if (b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || (b[s + 10] !== 0x54 && b[s + 10] !== 0x20) || b[s + 13] !== 0x3a || b[s + 16] !== 0x3a) return NaN;
  const num = (at: number, width: number) => {
    let v = 0;
    for (let k = at; k < at + width; k++) {
      const d = b[s + k] - 0x30;
      if (d < 0 || d > 9) return NaN;
      v = v * 10 + d;
    }
    return v;
  };
  const y = num(0, 4);
  const mo = num(5, 2);
  const d = num(8, 2);
  const h = num(11, 2);
  const mi = num(14, 2);
  const sec = num(17, 2);
  if (!(mo >= 1 && mo <= 12 && h < 24 && mi < 60 && sec < 60)) return NaN;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
  if (!(d >= 1 && d <= DAYS_IN_MONTH[mo - 1] + leap)) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec) / 1000;
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
