import type { LatentShape } from './denoiser.ts';
import { SeededGaussian } from './seeded-noise.ts';
import type { RgbFrame, Vae } from './vae.ts';

/**
 * Live previews without running the VAE: an affine map from one latent cell (C channels) to the mean colour of the
 * pixels it decodes to, applied to each step's clean-image prediction x₀ = x + σ·v. The map is fitted once per
 * model at load time by decoding a few random latents, so any VAE — Z-Image's, the mini model's, a fixture's —
 * gets one without hand-made factors.
 */
export interface PreviewMap {
  readonly channels: number;
  /** [3 × channels], row-major: rgb = weights · latent + bias (0–255). */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

const FIT_CELLS = 8;
const FIT_SAMPLES = 4;
/** Blurry early predictions have less spread than noise; half the variance also keeps most cells unclipped. */
const FIT_STD = 0.5;

export async function fitPreviewMap(vae: Vae, channels: number, upscale: number): Promise<PreviewMap> {
  const shape = { channels, height: FIT_CELLS, width: FIT_CELLS };
  const noise = new SeededGaussian(20251126);
  const latents = Array.from({ length: FIT_SAMPLES }, () => noise.fill(new Float32Array(channels * FIT_CELLS * FIT_CELLS)).map((v) => v * FIT_STD));
  const frames = await vae.decode(latents, shape);
  const n = channels + 1;
  // Normal equations (XᵀX + λI) w = Xᵀy, one system per colour channel; X has a trailing 1 for the bias. Cells
  // whose colour the decoder clipped to 0 or 255 say nothing about the slope and are left out.
  const xtx = [0, 1, 2].map(() => new Float64Array(n * n));
  const xty = [0, 1, 2].map(() => new Float64Array(n));
  const plane = FIT_CELLS * FIT_CELLS;
  const row = new Float64Array(n);
  frames.forEach((frame, s) => {
    for (let cy = 0; cy < FIT_CELLS; cy++) {
      for (let cx = 0; cx < FIT_CELLS; cx++) {
        for (let c = 0; c < channels; c++) row[c] = latents[s]![c * plane + cy * FIT_CELLS + cx]!;
        row[channels] = 1;
        const mean = [0, 0, 0];
        for (let y = cy * upscale; y < (cy + 1) * upscale; y++) {
          for (let x = cx * upscale; x < (cx + 1) * upscale; x++) for (let k = 0; k < 3; k++) mean[k]! += frame.data[(y * frame.width + x) * 3 + k]!;
        }
        for (let k = 0; k < 3; k++) {
          const y = mean[k]! / (upscale * upscale);
          if (y <= 0.5 || y >= 254.5) continue;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) xtx[k]![i * n + j]! += row[i]! * row[j]!;
            xty[k]![i]! += row[i]! * y;
          }
        }
      }
    }
  });
  const weights = new Float32Array(3 * channels);
  const bias = new Float32Array(3);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < channels; i++) xtx[k]![i * n + i]! += 1e-3;
    const solution = solve(xtx[k]!, xty[k]!, n, 1);
    for (let c = 0; c < channels; c++) weights[k * channels + c] = solution[c]!;
    bias[k] = solution[channels]!;
  }
  return { channels, weights, bias };
}

/** Gaussian elimination with partial pivoting for A (n×n) X = B (n×m). */
function solve(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const A = a.slice();
  const B = b.slice();
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r * n + col]!) > Math.abs(A[pivot * n + col]!)) pivot = r;
    if (pivot !== col) {
      for (let j = 0; j < n; j++) [A[col * n + j], A[pivot * n + j]] = [A[pivot * n + j]!, A[col * n + j]!];
      for (let k = 0; k < m; k++) [B[col * m + k], B[pivot * m + k]] = [B[pivot * m + k]!, B[col * m + k]!];
    }
    const d = A[col * n + col]!;
    if (Math.abs(d) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r * n + col]! / d;
      if (f === 0) continue;
      for (let j = col; j < n; j++) A[r * n + j]! -= f * A[col * n + j]!;
      for (let k = 0; k < m; k++) B[r * m + k]! -= f * B[col * m + k]!;
    }
  }
  for (let r = 0; r < n; r++) {
    const d = A[r * n + r]!;
    for (let k = 0; k < m; k++) B[r * m + k] = Math.abs(d) < 1e-12 ? 0 : B[r * m + k]! / d;
  }
  return B;
}

/**
 * One preview frame for the whole job: each candidate's x₀ prediction through the map, one pixel per latent cell,
 * laid out like the result grid (1, 2×1 or 2×2, a one-cell gutter).
 */
export function previewFrame(map: PreviewMap, predictions: readonly Float32Array[], shape: LatentShape): RgbFrame {
  const columns = predictions.length === 1 ? 1 : 2;
  const rows = Math.ceil(predictions.length / columns);
  const width = columns * shape.width + (columns - 1);
  const height = rows * shape.height + (rows - 1);
  const data = new Uint8Array(width * height * 3).fill(24);
  const plane = shape.width * shape.height;
  predictions.forEach((x0, index) => {
    const ox = (index % columns) * (shape.width + 1);
    const oy = Math.floor(index / columns) * (shape.height + 1);
    for (let p = 0; p < plane; p++) {
      const out = ((oy + Math.floor(p / shape.width)) * width + ox + (p % shape.width)) * 3;
      for (let k = 0; k < 3; k++) {
        let v = map.bias[k]!;
        for (let c = 0; c < map.channels; c++) v += map.weights[k * map.channels + c]! * x0[c * plane + p]!;
        data[out + k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  });
  return { width, height, data };
}
