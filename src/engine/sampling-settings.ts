import type { ProfileConfig, Role } from '../config/schema.ts';
import { engineError, type EngineError } from './errors.ts';

/**
 * How a request of a role is sampled when it does not say (its profile over its model's manifest), how many steps an
 * img2img strength leaves to run, and what a job costs in the fair queue.
 */

/** How a model is meant to be sampled: its manifest's `defaults` (or, for another backend, whatever it binds). */
export interface ModelDefaults {
  readonly steps: number;
  readonly minSteps: number;
  readonly maxSteps: number;
  readonly guidance: number;
  /** Distilled to run without classifier-free guidance: requests for guidance are refused unless a profile sets one. */
  readonly distilled: boolean;
  /** How a refine (img2img of one of its drafts) runs best on this model, where that differs from the above. */
  readonly refine?: RefineDefaults;
}

export interface RefineDefaults {
  readonly strength?: number;
  readonly steps?: number;
  readonly guidance?: number;
  readonly shift?: number;
  readonly inversion?: number;
}

/** The img2img strength of a refine or an edit when neither its profile nor its model names one. */
export const DEFAULT_STRENGTH = 0.6;

/** Steps that actually run for img2img strength s (diffusers' get_timesteps). */
export function keptSteps(steps: number, strength: number): number {
  const initTimestep = Math.min(steps * strength, steps);
  const tStart = Math.floor(steps - initTimestep);
  return steps - tStart;
}

/**
 * The smallest strength worth naming when a strength leaves no step: 1/N, rounded up to three decimals so the number
 * shown runs a step. (Every strength in (0, 1/N] runs exactly one, from the last sigma before 0.)
 */
export function smallestStrength(steps: number): number {
  return Math.ceil(1000 / steps) / 1000;
}

/** The refusal of a strength that leaves none of the steps to run (diffusers refuses it too). */
export function noDenoisingSteps(steps: number, strength: number): EngineError {
  const min = smallestStrength(steps);
  return engineError('no-denoising-steps', `Strength ${strength} leaves none of the ${steps} steps to run; use a strength of at least ${min}`, {
    strength,
    steps,
    min,
  });
}

/** The sampling settings a request of this role gets: the profile's where it sets them, else the model's. */
export interface SamplingSettings {
  readonly steps: number;
  readonly minSteps: number;
  readonly maxSteps: number;
  readonly guidance: number;
  /** Largest guidance a request may ask for: 0 for a distilled model unless the profile sets a guidance. */
  readonly maxGuidance: number;
  readonly shift: number;
  /** The img2img strength without a mask (1 for a draft, which starts from noise). */
  readonly strength: number;
  /**
   * The share of a refine's starting noise read back from its source (0: all from the seed). Only a refine at its
   * model's own strength has one: the model tuned the two together, and another strength asks for SDEdit's meaning.
   */
  readonly inversion: number;
}

/** The largest guidance a request may ask for on a model that takes guidance. */
export const MAX_GUIDANCE = 20;

export function samplingSettings(
  role: Role,
  profile: ProfileConfig,
  model: { readonly defaults: ModelDefaults; readonly shift: number },
): SamplingSettings {
  const { defaults } = model;
  const own: RefineDefaults = role === 'refine' ? (defaults.refine ?? {}) : {};
  const minSteps = profile.minSteps ?? defaults.minSteps;
  const maxSteps = Math.max(minSteps, profile.maxSteps ?? defaults.maxSteps);
  // A default the range leaves out (a profile's range around a model's default) is brought to the range's nearest end.
  const steps = Math.min(maxSteps, Math.max(minSteps, profile.steps ?? own.steps ?? defaults.steps));
  const guidanceFixed = defaults.distilled && profile.guidance === null;
  return {
    steps,
    minSteps,
    maxSteps,
    guidance: profile.guidance ?? own.guidance ?? defaults.guidance,
    maxGuidance: guidanceFixed ? 0 : MAX_GUIDANCE,
    shift: profile.shift ?? own.shift ?? model.shift,
    strength: role === 'draft' ? 1 : (profile.strength ?? own.strength ?? DEFAULT_STRENGTH),
    inversion: profile.strength === null ? (own.inversion ?? 0) : 0,
  };
}

/**
 * Estimated GPU work: NFE × megapixels × images; CFG doubles NFE, and noise inversion adds one unguided pass a step
 * (charged per candidate, though candidates of one source and prompt share theirs: an upper bound).
 */
export function jobCost(spec: {
  readonly steps: number;
  readonly strength: number;
  readonly guidance: number;
  readonly inversion: number;
  readonly width: number;
  readonly height: number;
  readonly candidates: readonly unknown[];
  /** An input image: only the kept steps run. */
  readonly image: string | null;
}): number {
  const steps = spec.image === null ? spec.steps : keptSteps(spec.steps, spec.strength);
  const inverting = spec.image !== null && spec.inversion > 0;
  const nfe = Math.max(1, steps) * ((spec.guidance > 0 ? 2 : 1) + (inverting ? 1 : 0));
  return nfe * ((spec.width * spec.height) / 1e6) * spec.candidates.length;
}

