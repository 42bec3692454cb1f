import { PipelineCancelled } from '../../pipeline.ts';
import type { Denoiser, LatentShape } from './denoiser.ts';
import { eulerStep, scaleNoise, type FlowMatchSchedule } from './flow-match-euler.ts';
import type { TextFeatures } from './text-encoder.ts';

/** What a run asks of an inversion. */
export interface Inversion {
  /** In (0, 1]: the inverted noise's share; the seeded noise's is √(1 − share²). */
  readonly share: number;
  /** Each candidate's clean latents x₀; candidates that share a source share the array, and one inversion. */
  readonly cleans: readonly Float32Array[];
}

export interface InversionInput {
  readonly denoiser: Denoiser;
  readonly shape: LatentShape;
  readonly schedule: FlowMatchSchedule;
  /** The first kept step: the inversion climbs to its sigma. */
  readonly start: number;
  readonly inversion: Inversion;
  readonly texts: readonly TextFeatures[];
  /** Each candidate's seeded noise. */
  readonly seeded: readonly Float32Array[];
  readonly cancelled: () => boolean;
  /** Called after each backward step (1-based). */
  readonly onStep: (done: number) => void;
}

/**
 * Noise inversion for img2img. Plain SDEdit mixes fresh noise into the source, and the kept steps then redraw what
 * that noise hides, a little softer than it was. Inversion reads back the noise that those same steps would turn into
 * the source: the schedule run backwards from σ = 0 up to the first kept sigma with the prompt's unguided velocity,
 * each step's velocity taken at its upper end (the usual DDIM-inversion convention), so that each backward step
 * and its forward step see the same timestep. The start's noise is `share` of that and the rest the
 * candidate's seeded noise, so candidates still differ.
 *
 * Returns each candidate's first latents, σ₀·noise + (1 − σ₀)·x₀ with the blended noise.
 */
export async function invertedStarts(input: InversionInput): Promise<Float32Array[]> {
  const { schedule, start, texts } = input;
  const { share, cleans } = input.inversion;
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
  // This keeps unit variance only as far as the inverted noise is standard normal and independent of the seed's.
  const seededShare = Math.sqrt(1 - share * share);
  return cleans.map((clean, k) => {
    const top = climbing[unique.indexOf(firstOf[k]!)]!;
    const seeded = input.seeded[k]!;
    const noise = new Float32Array(clean.length);
    for (let j = 0; j < noise.length; j++) {
      const inverted = (top[j]! - (1 - sigma0) * clean[j]!) / sigma0;
      noise[j] = share * inverted + seededShare * seeded[j]!;
    }
    // In place: each element of the noise is read before it is overwritten with the start's.
    return scaleNoise(noise, clean, noise, sigma0);
  });
}
