/**
 * Sharpness of an RGB image: the root mean square of its luma gradient (forward differences, 0–255 luma, over every
 * pixel). A blurred edge of contrast C and width w contributes about C²/w to the mean square, so the figure falls as
 * edges soften. (The mean gradient magnitude does not: an edge's summed gradient is its contrast whatever its width.)
 */
export function sharpness(rgb: Uint8Array, width: number, height: number): number {
  const luma = new Float64Array(width * height);
  for (let p = 0; p < width * height; p++) luma[p] = 0.299 * rgb[p * 3]! + 0.587 * rgb[p * 3 + 1]! + 0.114 * rgb[p * 3 + 2]!;
  let sum = 0;
  for (let y = 0; y < height - 1; y++) {
    for (let x = 0; x < width - 1; x++) {
      const p = y * width + x;
      const gx = luma[p + 1]! - luma[p]!;
      const gy = luma[p + width]! - luma[p]!;
      sum += gx * gx + gy * gy;
    }
  }
  return Math.sqrt(sum / ((width - 1) * (height - 1)));
}
