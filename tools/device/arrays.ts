/** Deterministic values in [-scale, scale): the same inputs on every provider and every machine. */
export function noise(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 2 * scale;
  }
  return out;
}

export interface Difference {
  readonly maxAbs: number;
  readonly meanAbs: number;
  /** maxAbs relative to the reference's largest magnitude. */
  readonly relMax: number;
  readonly referenceMaxMagnitude: number;
  /** The share of elements that differ by more than `tolerance` (0 without one). */
  readonly fractionOver: number;
}

/** How far `other` is from `reference`, element by element. */
export function difference(reference: ArrayLike<number>, other: ArrayLike<number>, tolerance = Number.POSITIVE_INFINITY): Difference {
  let max = 0;
  let sum = 0;
  let scale = 0;
  let over = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i]! - other[i]!);
    // NaN compares false: a NaN anywhere makes the result NaN.
    if (!(d <= max)) max = d;
    sum += d;
    if (d > tolerance) over += 1;
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return { maxAbs: max, meanAbs: sum / reference.length, relMax: max / scale, referenceMaxMagnitude: scale, fractionOver: over / reference.length };
}
