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

/** The largest absolute difference between two outputs, and that relative to the first's largest magnitude. */
export function difference(reference: ArrayLike<number>, other: ArrayLike<number>): { maxAbs: number; meanAbs: number; relMax: number } {
  let max = 0;
  let sum = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i]! - other[i]!);
    // NaN compares false: a NaN anywhere makes the result NaN.
    if (!(d <= max)) max = d;
    sum += d;
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return { maxAbs: max, meanAbs: sum / reference.length, relMax: max / scale };
}
