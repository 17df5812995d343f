/** Axis helpers for the SVG charts: "nice" tick values (1, 2, 5 x 10^n steps) and compact labels. */

/** About `count` evenly spaced round values covering [min, max] (the first <= min, the last >= max). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`ticks need finite bounds, got [${min}, ${max}]`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const e = 1 + 1e-9; // slack for rounding in raw / mag
  const step = (norm <= e ? 1 : norm <= 2 * e ? 2 : norm <= 2.5 * e ? 2.5 : norm <= 5 * e ? 5 : 10) * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const last = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max] (both > 0), for a logarithmic axis. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0 && max > 0)) throw new RangeError(`a log axis needs positive bounds, got [${min}, ${max}]`);
  const lo = Math.floor(Math.log10(Math.min(min, max)));
  const hi = Math.ceil(Math.log10(Math.max(min, max)));
  const ticks: number[] = [];
  for (let e = lo; e <= Math.max(hi, lo + 1); e++) ticks.push(Math.pow(10, e));
  return ticks;
}

/** Short tick label: 1.5k, 20k, 2M for large values, up to 3 significant digits otherwise (1e-4 and below in exponent form). */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e3) return `${trim(v / 1e3)}k`;
  if (a === 0) return '0';
  if (a < 1e-3) return v.toExponential(0);
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}
