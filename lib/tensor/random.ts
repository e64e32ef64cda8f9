/**
 * The seeded random generator behind `rand`, `randn` and every seeded algorithm in qarm.
 *
 * Algorithm: xoshiro128** (Blackman & Vigna) on 32-bit words, state seeded by SplitMix32 from
 * the seed; floats are the top 24 bits / 2^24 (uniform in [0, 1)); normals use the
 * Box–Muller transform (both outputs used). The same seed gives the same stream on every
 * platform and thread count.
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.reseed(seed);
  }

  /** Restarts the stream from `seed` (any finite number; the integer part of its low 53 bits is used). */
  reseed(seed: number): void {
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 0x100000000)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
  }

  /**
   * The xoshiro128** state words (s0..s3, as int32 bits): what kernels that draw from this
   * stream on a device take as an int32 [4] tensor and advance there. Only the uniform
   * stream is captured (not a spare normal). @internal
   */
  getState(): Int32Array {
    return Int32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  /** Continues the stream from state words written by {@link Generator.getState} (or a kernel). @internal */
  setState(words: ArrayLike<number>): void {
    this.s0 = words[0] >>> 0;
    this.s1 = words[1] >>> 0;
    this.s2 = words[2] >>> 0;
    this.s3 = words[3] >>> 0;
    this.spare = null;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform float in [0, 1). */
  uniform(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform53() * n);
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform53(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal sample. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform53();
    const v = this.uniform53();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[] | Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const globalGenerator = new Generator(0);

/** Reseeds the global generator used when no `seed` is passed. */
export function seed(s: number): void {
  globalGenerator.reseed(s);
}

/** The generator for a call: a fresh one for an explicit seed, else the global one. @internal */
export function generatorFor(seedValue?: number): Generator {
  return seedValue === undefined ? globalGenerator : new Generator(seedValue);
}
