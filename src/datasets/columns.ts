/** Growable typed-array columns: amortised O(1) append, trimmed to length at the end. */

type Typed = Int32Array | Uint8Array | Float64Array | Uint16Array | Float32Array;

export function grow<T extends Typed>(a: T, minLength: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(minLength, Math.ceil(a.length * 1.5) + 16));
  b.set(a);
  return b;
}

/** A copy of a[0, length) that owns exactly its bytes. */
export function trim<T extends Typed>(a: T, length: number): T {
  return a.length === length ? a : (a.slice(0, length) as T);
}
