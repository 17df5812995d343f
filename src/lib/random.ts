/**
 * Seeded pseudo-random numbers for everything that must be reproducible (the ML core's weight init, shuffles and
 * negative sampling; the simulator's synthetic data). Never use Math.random in model code.
 *
 * Glossary
 *   s0..s3   the 128-bit state of xoshiro128** (four uint32 words; never all zero)
 *   seed     any integer; expanded to the state by splitmix32 so that nearby seeds give unrelated streams
 *   U        a uniform draw in [0, 1) with 32 random bits (float64)
 *   N(0,1)   a standard normal draw (Box-Muller on two uniforms; the second value of each pair is cached)
 *
 * Reference: Blackman & Vigna, "Scrambled linear pseudorandom number generators" (2018), xoshiro128** 1.1.
 */

const TWO_POW_32 = 4294967296;

/** splitmix32: a well-mixed 32-bit sequence from one integer seed, used only to fill the xoshiro state. */
function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = NaN;

  /** `seed` is truncated to 32 bits; any value, including 0, gives a valid stream. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    const st = { x: Math.trunc(seed) | 0 };
    this.s0 = splitmix32(st) | 0;
    this.s1 = splitmix32(st) | 0;
    this.s2 = splitmix32(st) | 0;
    this.s3 = splitmix32(st) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with an explicit state (for checking against published test vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const r = new Rng(0);
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    return r;
  }

  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** U: uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n); n must be a positive integer below 2^32. Unbiased (rejection on the tail). */
  int(n: number): number {
    if (!(n > 0 && n <= TWO_POW_32 && Number.isInteger(n))) throw new RangeError(`Rng.int needs an integer n in (0, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let r = this.nextUint32();
    while (r >= limit) r = this.nextUint32();
    return r % n;
  }

  /** N(0,1) by Box-Muller; pairs are generated together and the second is returned by the next call. */
  gaussian(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Normal draw with the given mean and standard deviation. */
  normal(mean: number, sd: number): number {
    return mean + sd * this.gaussian();
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** In-place Fisher-Yates shuffle of a[from, to) (whole array by default). */
  shuffle<T extends { length: number; [i: number]: number }>(a: T, from = 0, to = a.length): T {
    for (let i = to - 1; i > from; i--) {
      const j = from + this.int(i - from + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /** A new generator whose stream is derived from this one (for giving each worker or sub-task its own stream). */
  fork(): Rng {
    return new Rng(this.nextUint32() ^ 0x5bd1e995);
  }
}

/** Convenience: `rng(seed)` is `new Rng(seed)`. */
export function rng(seed: number): Rng {
  return new Rng(seed);
}
