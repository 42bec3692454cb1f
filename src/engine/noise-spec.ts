/**
 * How a candidate's initial noise is made, as data, so a result can be reproduced and varied later.
 * `{ seed }` is standard normal noise from the seeded generator; `{ base, seed, t }` is the spherical interpolation
 * slerp(noise(base), noise(seed), t): t = 0 is the base, t = 1 is fresh noise. Chaos and Vary are both slerps.
 */
export type NoiseSpec = { readonly seed: number } | { readonly base: NoiseSpec; readonly seed: number; readonly t: number };

export const MAX_SEED = 0xffffffff;

/** Slerp amounts for Vary. */
export const VARY_AMOUNT = { subtle: 0.25, strong: 0.6 } as const;
export type VaryStrength = keyof typeof VARY_AMOUNT;

/**
 * Candidate noises for one job. Candidate 0 is always `seed` itself; candidate i > 0 moves from it towards the
 * independent noise of `seed + i` by an amount that grows with chaos: chaos 0 = small perturbations (t = 0.15),
 * chaos 100 = independent noises (exactly `{ seed: seed + i }`).
 */
export function candidateNoises(seed: number, count: number, chaos: number): NoiseSpec[] {
  const t = 0.15 + 0.85 * (chaos / 100);
  return Array.from({ length: count }, (_, i): NoiseSpec => {
    const own = (seed + i) % (MAX_SEED + 1);
    if (i === 0 || t >= 1) return { seed: own };
    return { base: { seed }, seed: own, t };
  });
}

/** Vary: `count` new noises around a candidate's noise. */
export function varyNoises(base: NoiseSpec, seed: number, count: number, strength: VaryStrength): NoiseSpec[] {
  return Array.from({ length: count }, (_, i) => ({ base, seed: (seed + i) % (MAX_SEED + 1), t: VARY_AMOUNT[strength] }));
}

/** A short text form for footers and PNG metadata: `42`, `42~43@0.58`. */
export function describeNoise(noise: NoiseSpec): string {
  if ('base' in noise) return `${describeNoise(noise.base)}~${noise.seed}@${Number(noise.t.toFixed(3))}`;
  return String(noise.seed);
}
