/**
 * Flow-matching Euler sampler, as diffusers' FlowMatchEulerDiscreteScheduler with Z-Image's static shift
 * (docs/sampling.md has each formula with its source). Pure Float32Array math; the pipeline owns the loop.
 *
 *   s = linspace(1, 1/N, N);  σ = shift·s / (1 + (shift−1)·s);  append σ = 0
 *   model timestep t = 1 − σ (0 = pure noise);  x ← x + (σ_next − σ)·(−v)
 */
export interface FlowMatchSchedule {
  /** N + 1 sigmas, the last one 0. */
  readonly sigmas: Float64Array;
  /** N model timesteps, t = 1 − σ. */
  readonly timesteps: Float64Array;
}

export function flowMatchSchedule(steps: number, shift: number): FlowMatchSchedule {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`Expected steps to be a positive integer, got ${steps}`);
  if (!(shift > 0)) throw new RangeError(`Expected shift to be a positive number, got ${shift}`);
  const sigmas = new Float64Array(steps + 1);
  const timesteps = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    // linspace(1, 1/N, N): N points from 1 down to 1/N inclusive.
    const s = steps === 1 ? 1 : 1 + (i * (1 / steps - 1)) / (steps - 1);
    const sigma = (shift * s) / (1 + (shift - 1) * s);
    sigmas[i] = sigma;
    timesteps[i] = 1 - sigma;
  }
  sigmas[steps] = 0;
  return { sigmas, timesteps };
}

/** img2img (diffusers' get_timesteps): the index of the first step that runs for strength s ∈ [0, 1]. */
export function img2imgStartIndex(steps: number, strength: number): number {
  if (!(strength >= 0 && strength <= 1)) throw new RangeError(`Expected strength in [0, 1], got ${strength}`);
  const initTimestep = Math.min(steps * strength, steps);
  return Math.floor(steps - initTimestep);
}

/** One Euler step in place: x ← x + (σ_next − σ)·(−v). */
export function eulerStep(x: Float32Array, velocity: Float32Array, sigma: number, sigmaNext: number): void {
  if (x.length !== velocity.length) throw new RangeError(`Latent and velocity sizes differ: ${x.length} vs ${velocity.length}`);
  const dt = sigmaNext - sigma;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! - dt * velocity[i]!;
}

/** Noising a clean latent to level σ (scale_noise): x = σ·noise + (1−σ)·x₀. Writes into `out`. */
export function scaleNoise(out: Float32Array, clean: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = sigma * noise[i]! + (1 - sigma) * clean[i]!;
  return out;
}

/**
 * Classifier-free guidance as Z-Image does it: pred = pos + g·(pos − neg), written into `pos`. With
 * `normalization` c > 0 the result is scaled down so that ‖pred‖ ≤ c·‖pos‖ (norms over the whole candidate).
 */
export function applyGuidance(pos: Float32Array, neg: Float32Array, guidance: number, normalization: number): void {
  let posNorm = 0;
  if (normalization > 0) for (let i = 0; i < pos.length; i++) posNorm += pos[i]! * pos[i]!;
  let predNorm = 0;
  for (let i = 0; i < pos.length; i++) {
    const value = pos[i]! + guidance * (pos[i]! - neg[i]!);
    pos[i] = value;
    predNorm += value * value;
  }
  if (normalization > 0) {
    const max = normalization * Math.sqrt(posNorm);
    const norm = Math.sqrt(predNorm);
    if (norm > max && norm > 0) {
      const scale = max / norm;
      for (let i = 0; i < pos.length; i++) pos[i] = pos[i]! * scale;
    }
  }
}

/** cfg_truncation: guidance applies while t = 1 − σ ≤ truncation. */
export function guidanceActive(timestep: number, guidance: number, truncation: number): boolean {
  return guidance > 0 && timestep <= truncation;
}
