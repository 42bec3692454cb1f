import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16, fromHalfBits, toHalfBits } from './float16.ts';

describe('float16', () => {
  it('converts exactly representable values both ways', () => {
    const values = [0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 1000.5];
    expect([...float16ToFloat32(float32ToFloat16(new Float32Array(values)))]).toEqual(values);
  });

  it('uses known bit patterns', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(toHalfBits(Number.NaN) & 0x7e00).toBe(0x7e00);
    expect(fromHalfBits(0x3555)).toBeCloseTo(0.33325, 5);
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to even (1).
    expect(fromHalfBits(toHalfBits(1 + 2 ** -11))).toBe(1);
    expect(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 * 2 ** -10);
    expect(Math.abs(fromHalfBits(toHalfBits(0.1)) - 0.1)).toBeLessThan(1e-4);
  });
});
