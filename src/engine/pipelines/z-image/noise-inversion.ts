import { PipelineCancelled } from '../../pipeline.ts';
import type { Denoiser, LatentShape } from './denoiser.ts';
import { eulerStep, scaleNoise, type FlowMatchSchedule } from './flow-match-euler.ts';
import type { TextFeatures } from './text-encoder.ts';

/**
 * Noise inversion for img2img. Plain SDEdit mixes fresh noise into the source, and the kept steps then redraw what
 * that noise hides, a little softer than it was. Inversion reads back the noise that those same steps would turn into
 * the source: the schedule run backwards from σ = 0 up to the first kept sigma with the prompt's unguided velocity,
 * each step's velocity taken at its upper end (as diffusers' DDIMInverseScheduler takes its timestep), so that
 * forward and backward steps use the same velocities. The start's noise is `share` of that and the rest the
 * candidate's seeded noise, so candidates still differ.
 */
export interface InversionInput {
  readonly denoiser: Denoiser;
  readonly shape: LatentShape;
  readonly schedule: FlowMatchSchedule;
  /** The first kept step: the inversion climbs to its sigma. */
  readonly start: number;
  /** Each candidate's clean latents x₀ (candidates of one source share the array). */
  readonly cleans: readonly Float32Array[];
  readonly texts: readonly TextFeatures[];
  /** Each candidate's seeded noise. */
  readonly seeded: readonly Float32Array[];
  /** In (0, 1]: the inverted noise's share; the seeded noise's is √(1 − share²), which keeps the variance at 1. */
  readonly share: number;
  readonly cancelled: () => boolean;
  /** Called after each backward step (1-based). */
  readonly onStep: (done: number) => void;
}

/** The number of backward steps an inversion from `start` runs: as many as the kept steps. */
export const inversionSteps = (schedule: FlowMatchSchedule, start: number): number => schedule.timesteps.length - start;

/** Each candidate's first latents, σ₀·noise + (1 − σ₀)·x₀ with the blended noise. */
export async function invertedStarts(input: InversionInput): Promise<Float32Array[]> {
  const { schedule, start, cleans, texts } = input;
  const { sigmas, timesteps } = schedule;
  // Candidates with the same source and prompt invert to the same noise: run each pair once.
  const firstOf = cleans.map((clean, k) => cleans.findIndex((c, j) => c === clean && texts[j] === texts[k]));
  const unique = [...new Set(firstOf)];
  const climbing = unique.map((k) => Float32Array.from(cleans[k]!));
  for (let i = timesteps.length - 1; i >= start; i--) {
    if (input.cancelled()) throw new PipelineCancelled();
    const velocities = await input.denoiser.velocities(
      climbing,
      input.shape,
      timesteps[i]!,
      unique.map((k) => texts[k]!),
      null,
    );
    climbing.forEach((x, u) => eulerStep(x, velocities[u]!, sigmas[i + 1]!, sigmas[i]!));
    input.onStep(timesteps.length - i);
  }
  const sigma0 = sigmas[start]!;
  const seededShare = Math.sqrt(1 - input.share * input.share);
  return cleans.map((clean, k) => {
    const top = climbing[unique.indexOf(firstOf[k]!)]!;
    const seeded = input.seeded[k]!;
    const noise = new Float32Array(clean.length);
    for (let j = 0; j < noise.length; j++) {
      const inverted = (top[j]! - (1 - sigma0) * clean[j]!) / sigma0;
      noise[j] = input.share * inverted + seededShare * seeded[j]!;
    }
    return scaleNoise(noise, clean, noise, sigma0);
  });
}
