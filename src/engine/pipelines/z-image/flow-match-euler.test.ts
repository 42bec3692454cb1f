import { describe, expect, it } from 'vitest';
import { applyGuidance, eulerStep, flowMatchSchedule, guidanceActive, img2imgStartIndex } from './flow-match-euler.ts';

// Tables computed independently of this implementation (numpy, float64) from the formulas in docs/sampling.md.
const TURBO_8 = [1, 0.9545454545454546, 0.9, 0.8333333333333334, 0.75, 0.6428571428571429, 0.5, 0.3, 0];
// numpy: s = np.linspace(1.0, 1/30, 30); shift·s / (1 + (shift−1)·s), rounded to 1e-10
const BASE_30 = [
  1.0, 0.9942857143, 0.9882352941, 0.9818181818, 0.975, 0.9677419355, 0.96, 0.9517241379, 0.9428571429, 0.9333333333,
  0.9230769231, 0.912, 0.9, 0.8869565217, 0.8727272727, 0.8571428571, 0.84, 0.8210526316, 0.8, 0.7764705882, 0.75,
  0.72, 0.6857142857, 0.6461538462, 0.6, 0.5454545455, 0.48, 0.4, 0.3, 0.1714285714, 0.0,
];

describe('flow-match Euler schedule', () => {
  it('holds the Turbo table: N = 8, shift 3', () => {
    const { sigmas, timesteps } = flowMatchSchedule(8, 3);
    expect(sigmas).toHaveLength(9);
    TURBO_8.forEach((sigma, i) => expect(Math.abs(sigmas[i]! - sigma)).toBeLessThan(1e-6));
    expect([...timesteps].map((t) => Number(t.toFixed(4)))).toEqual([0, 0.0455, 0.1, 0.1667, 0.25, 0.3571, 0.5, 0.7]);
  });

  it('holds the Base table: N = 30, shift 6', () => {
    const { sigmas } = flowMatchSchedule(30, 6);
    expect(sigmas).toHaveLength(31);
    BASE_30.forEach((sigma, i) => expect(Math.abs(sigmas[i]! - sigma), `σ[${i}]`).toBeLessThan(1e-6));
    // spot checks written out by hand: s = 1 − 29i/(30·29) → σ[1] = 6·(1−1/30)/(1+5·(1−1/30))
    expect(Math.abs(sigmas[1]! - (6 * (29 / 30)) / (1 + 5 * (29 / 30)))).toBeLessThan(1e-12);
    expect(Math.abs(sigmas[29]! - (6 / 30) / (1 + 5 / 30))).toBeLessThan(1e-12);
    expect(sigmas[30]).toBe(0);
  });

  it('skips the first ⌊N − N·s⌋ steps for img2img', () => {
    expect(img2imgStartIndex(8, 1)).toBe(0);
    expect(img2imgStartIndex(8, 0.6)).toBe(3); // 8 − 4.8 = 3.2 → 3: five steps run
    expect(img2imgStartIndex(8, 0.5)).toBe(4);
    expect(img2imgStartIndex(30, 0.6)).toBe(12); // 30 − 18 = 12: eighteen steps run
    expect(img2imgStartIndex(30, 0.75)).toBe(7); // 30 − 22.5 = 7.5 → 7
    expect(img2imgStartIndex(20, 0.33)).toBe(13); // 20 − 6.6 = 13.4 → 13
    expect(img2imgStartIndex(8, 0)).toBe(8);
    expect(() => img2imgStartIndex(8, 1.5)).toThrow(RangeError);
  });

  it('takes an Euler step x ← x + (σ_next − σ)·(−v)', () => {
    const x = new Float32Array([1, -2]);
    eulerStep(x, new Float32Array([0.5, 1]), 0.9, 0.75);
    expect([...x]).toEqual([Math.fround(1 + 0.15 * 0.5), Math.fround(-2 + 0.15 * 1)]);
  });

  it('guides with pos + g·(pos − neg), normalises, and truncates', () => {
    const pos = new Float32Array([1, 1]);
    applyGuidance(pos, new Float32Array([0, 1]), 4, 0);
    expect([...pos]).toEqual([5, 1]);
    const clipped = new Float32Array([3, 4]);
    applyGuidance(clipped, new Float32Array([0, 0]), 1, 1.5); // pred = (6, 8), ‖pred‖ = 10 > 1.5·5 → scaled to 7.5
    expect(Math.hypot(clipped[0]!, clipped[1]!)).toBeCloseTo(7.5, 5);
    expect(guidanceActive(0.3, 4, 1)).toBe(true);
    expect(guidanceActive(0.6, 4, 0.5)).toBe(false);
    expect(guidanceActive(0.1, 0, 1)).toBe(false);
  });
});
