import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { engineError, EngineFailure } from '../../errors.ts';
import type { MaskSpec } from '../../request.ts';
import type { RgbFrame } from './vae.ts';

/** Loads a stored input image and fits it to width × height: scaled to cover, centre-cropped. */
export async function loadFitted(path: string, width: number, height: number): Promise<RgbFrame> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new EngineFailure(engineError('missing-image', 'The input image is no longer stored; upload it again'));
  }
  try {
    const data = await sharp(bytes).removeAlpha().resize(width, height, { fit: 'cover', position: 'centre' }).raw().toBuffer();
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new EngineFailure(engineError('bad-image', `The input image could not be decoded (${(error as Error).message})`));
  }
}

/** A mask in [0, 1] (1 = change), width × height, row-major. */
export interface Mask {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/**
 * The edit mask at output size, as drawn: from a mask image (white = change; it must have the source image's size,
 * and is fitted the same way) or a named region. `latentMask` and `featherMask` make what the sampler and the
 * composite use of it.
 */
export async function buildMask(spec: MaskSpec, source: { width: number; height: number }, width: number, height: number): Promise<Mask> {
  let data: Float32Array;
  if (spec.kind === 'region') {
    data = new Float32Array(width * height);
    const x0 = Math.round(spec.region.x * width);
    const y0 = Math.round(spec.region.y * height);
    const x1 = Math.round((spec.region.x + spec.region.w) * width);
    const y1 = Math.round((spec.region.y + spec.region.h) * height);
    for (let y = y0; y < y1; y++) data.fill(1, y * width + x0, y * width + x1);
  } else {
    const image = sharp(await readFile(spec.path));
    const meta = await image.metadata();
    if (meta.width !== source.width || meta.height !== source.height) {
      throw new EngineFailure(
        engineError('bad-mask', `The mask is ${meta.width}×${meta.height}; it must match the image, ${source.width}×${source.height}`, {
          mask: `${meta.width}x${meta.height}`,
          image: `${source.width}x${source.height}`,
        }),
      );
    }
    const gray = await image.removeAlpha().greyscale().resize(width, height, { fit: 'cover', position: 'centre' }).raw().toBuffer();
    data = new Float32Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = gray[i]! / 255;
  }
  return { width, height, data };
}

/** The mask for the optional composite: feathered (≈ Gaussian of radius min(W, H)/48) so the seam blends. */
export function featherMask(mask: Mask): Mask {
  const radius = Math.max(1, Math.round(Math.min(mask.width, mask.height) / 48));
  return { ...mask, data: feather(mask.data, mask.width, mask.height, radius) };
}

/** Three box blurs ≈ a Gaussian of σ ≈ radius. */
export function feather(mask: Float32Array, width: number, height: number, radius: number): Float32Array {
  const a = mask.slice();
  const b = new Float32Array(mask.length);
  for (let pass = 0; pass < 3; pass++) {
    boxBlur(a, b, width, height, radius, true);
    boxBlur(b, a, width, height, radius, false);
  }
  return a;
}

function boxBlur(src: Float32Array, dst: Float32Array, width: number, height: number, r: number, horizontal: boolean): void {
  const lines = horizontal ? height : width;
  const length = horizontal ? width : height;
  const at = (line: number, i: number): number => (horizontal ? line * width + i : i * width + line);
  for (let line = 0; line < lines; line++) {
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += src[at(line, Math.min(length - 1, Math.max(0, i)))]!;
    for (let i = 0; i < length; i++) {
      dst[at(line, i)] = sum / (2 * r + 1);
      sum += src[at(line, Math.min(length - 1, i + r + 1))]! - src[at(line, Math.max(0, i - r))]!;
    }
  }
}

/**
 * The mask the sampler blends with, as diffusers' inpainting makes it: binarised at 0.5 (VaeImageProcessor with
 * do_binarize) and resized to the latent grid by nearest neighbour (torch interpolate, mode "nearest": source
 * index ⌊i · in/out⌋, so each cell takes its block's top-left pixel). 1 = the sampler's, 0 = the source's.
 */
export function latentMask(mask: Mask, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const fx = mask.width / width;
  const fy = mask.height / height;
  for (let y = 0; y < height; y++) {
    const row = Math.min(mask.height - 1, Math.floor(y * fy)) * mask.width;
    for (let x = 0; x < width; x++) out[y * width + x] = mask.data[row + Math.min(mask.width - 1, Math.floor(x * fx))]! >= 0.5 ? 1 : 0;
  }
  return out;
}

/** Final inpaint composite: mask·generated + (1 − mask)·source, per pixel. */
export function composite(generated: RgbFrame, source: RgbFrame, mask: Mask): RgbFrame {
  const data = new Uint8Array(generated.data.length);
  for (let p = 0; p < mask.data.length; p++) {
    const m = mask.data[p]!;
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(m * generated.data[p * 3 + c]! + (1 - m) * source.data[p * 3 + c]!);
  }
  return { width: generated.width, height: generated.height, data };
}

/** Resizes an RGB frame (the source image at output size → at encoder size). */
export async function resizeFrame(frame: RgbFrame, width: number, height: number): Promise<RgbFrame> {
  if (frame.width === width && frame.height === height) return frame;
  const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Image dimensions of a stored file (for mask checks). */
export async function imageSize(path: string): Promise<{ width: number; height: number }> {
  const meta = await sharp(await readFile(path)).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0 };
}
