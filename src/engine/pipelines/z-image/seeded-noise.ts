import type { NoiseSpec } from '../../noise-spec.ts';

/**
 * The project's seeded Gaussian generator, so a seed reproduces an image exactly on any machine (no Math.random, no
 * platform RNG). Specification:
 *
 *  1. The seed (an integer in [0, 2³²)) expands into four 32-bit words by splitmix32: z += 0x9E3779B9;
 *     z = (z ^ z>>>16)·0x21F0AAAD; z = (z ^ z>>>15)·0x735A2D97; word = z ^ z>>>15 (32-bit wrapping arithmetic).
 *  2. Those words seed xoshiro128** (Blackman & Vigna): result = rotl(s1·5, 7)·9, then the xoshiro128 state update.
 *  3. Standard normals come in pairs by Box–Muller in float64: u1 = (a + 1)/2³², u2 = b/2³² from two draws a, b;
 *     r = √(−2 ln u1); z₀ = r·cos 2πu2, z₁ = r·sin 2πu2; each is rounded to float32 and written in order.
 *
 * V8 computes Math.log/cos/sin with the same fdlibm-derived code on every platform, so the values are identical
 * across machines. One generator per candidate: a candidate's noise does not depend on the rest of the batch.
 */
export class SeededGaussian {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`Expected a seed in [0, 2^32), got ${seed}`);
    let z = seed | 0;
    const next = (): number => {
      z = (z + 0x9e3779b9) | 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** The next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  nextGaussian(): number {
    if (this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    const u1 = (this.nextUint32() + 1) / 4294967296;
    const u2 = this.nextUint32() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  fill(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.nextGaussian();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Spherical interpolation of two noise vectors, which keeps a Gaussian's norm (unlike a straight blend). */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
  const theta = Math.acos(cos);
  const out = new Float32Array(a.length);
  if (theta < 1e-4) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i]! + t * b[i]!;
    return out;
  }
  const sin = Math.sin(theta);
  const wa = Math.sin((1 - t) * theta) / sin;
  const wb = Math.sin(t * theta) / sin;
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return out;
}

/** The noise a NoiseSpec describes, for a latent of `length` values. */
export function noiseFor(spec: NoiseSpec, length: number): Float32Array {
  if ('base' in spec) return slerp(noiseFor(spec.base, length), noiseFor({ seed: spec.seed }, length), spec.t);
  return new SeededGaussian(spec.seed).fill(new Float32Array(length));
}

/** XOR-ed into a candidate's seed to give its VAE posterior a stream of its own (the first 32 bits of √2's fraction). */
export const POSTERIOR_STREAM = 0x6a09e667;

/**
 * The standard normals that sample a candidate's VAE posterior (z = mean + σ·ε): the seeded generator at the
 * candidate's own seed (`spec.seed`, for a slerp too) XOR POSTERIOR_STREAM. A stream apart from the starting noise,
 * so a candidate's noise is the same whether or not its model's encoder has a posterior to sample, and a seed still
 * reproduces the image whatever else is in the batch.
 */
export function posteriorNoiseFor(spec: NoiseSpec, length: number): Float32Array {
  return new SeededGaussian((spec.seed ^ POSTERIOR_STREAM) >>> 0).fill(new Float32Array(length));
}
