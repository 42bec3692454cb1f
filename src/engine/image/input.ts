import sharp from 'sharp';
import { engineError, fail, ok, type Result } from '../errors.ts';

/** Formats users may send. SVG and PDF are refused: they are programs more than pictures. */
const ACCEPTED = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff']);

/** Magic numbers, checked before any decoder sees the bytes. */
export function sniffImageType(bytes: Uint8Array): string | null {
  const b = (i: number): number => bytes[i] ?? -1;
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  if (b(0) === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp' && /^(avif|avis|heic|heix|mif1|msf1)$/.test(ascii(8, 12))) return ascii(8, 12).startsWith('avi') ? 'avif' : 'heif';
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a) || (b(0) === 0x4d && b(1) === 0x4d && b(3) === 0x2a)) return 'tiff';
  return null;
}

export interface InputLimits {
  readonly maxInputPixels: number;
  readonly maxInputBytes: number;
}

export interface NormalizedImage {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/**
 * Checks and normalises an uploaded image: size cap, content sniffing, pixel cap before decoding (decompression
 * bombs), a full decode (so truncated files fail here, not in the worker), EXIF orientation applied, alpha
 * flattened on white, sRGB, PNG out. `what` names the input in messages ("image", "mask").
 */
export async function normalizeInputImage(bytes: Uint8Array, limits: InputLimits, what = 'image'): Promise<Result<NormalizedImage>> {
  if (bytes.byteLength > limits.maxInputBytes) {
    return fail(
      engineError('image-too-large', `The ${what} is ${bytes.byteLength} bytes; the limit is ${limits.maxInputBytes}`, {
        what,
        bytes: bytes.byteLength,
        max: limits.maxInputBytes,
      }),
    );
  }
  const type = sniffImageType(bytes);
  if (type === null || !ACCEPTED.has(type)) {
    return fail(engineError('bad-image', `The ${what} is not a PNG, JPEG, WebP, GIF, AVIF or TIFF image`, { what }));
  }
  try {
    const input = sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: 'truncated', pages: 1 });
    const meta = await input.metadata();
    if ((meta.width ?? 0) * (meta.height ?? 0) > limits.maxInputPixels) {
      return fail(
        engineError('image-too-large', `The ${what} is ${meta.width}×${meta.height} pixels; the limit is ${limits.maxInputPixels} pixels`, {
          what,
          max: limits.maxInputPixels,
        }),
      );
    }
    const { data, info } = await input
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .png({ compressionLevel: 3 })
      .toBuffer({ resolveWithObject: true });
    return ok({ png: data, width: info.width, height: info.height });
  } catch (error) {
    const message = (error as Error).message;
    if (/pixel limit/i.test(message)) {
      return fail(engineError('image-too-large', `The ${what} has more than ${limits.maxInputPixels} pixels`, { what, max: limits.maxInputPixels }));
    }
    return fail(engineError('bad-image', `The ${what} could not be decoded (${message.split('\n')[0]})`, { what }));
  }
}
