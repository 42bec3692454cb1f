import sharp from 'sharp';
import type { RgbImage } from './verdict.ts';

/** Why an image cannot be judged at all, or undefined when its buffer matches its size. */
export function invalidImage(image: RgbImage): string | undefined {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    return `invalid image size ${width}×${height}`;
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    return `invalid image: ${width}×${height} RGB needs ${width * height * 3} bytes, got ${data?.length}`;
  }
  return undefined;
}

/**
 * Squashes an image to the model's square input (as nsfwjs does: no crop, no padding). sharp runs on libuv's pool,
 * so the main thread stays free, and it filters properly when shrinking (nsfwjs' own bilinear resize aliases) —
 * 1024² → 224² takes a few ms there, and only 150 KB cross to the classifier thread.
 */
export async function resizeForModel(image: RgbImage, side: number): Promise<Uint8Array> {
  if (image.width === side && image.height === side) return image.data;
  const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(side, side, { fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(resized.buffer, resized.byteOffset, resized.byteLength);
}
