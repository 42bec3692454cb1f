import sharp from 'sharp';
import type { RenderedFile } from './render.ts';

/** Discord's upload limit when an interaction does not state one (no boosts): 10 MiB per file. */
export const DEFAULT_UPLOAD_LIMIT = 10 * 2 ** 20;

const MAX_TRIES = 6;
const MIN_SIDE = 16;

/**
 * A PNG no larger than `limit` bytes: the same image when it fits, else downscaled (area in proportion to the
 * excess, a little under, until it fits). A grid is better shown smaller than not at all. Returns null only when
 * even a tiny version cannot fit, which no real limit causes.
 */
export async function fitPng(png: Buffer, limit: number): Promise<Buffer | null> {
  if (png.byteLength <= limit) return png;
  const meta = await sharp(png).metadata();
  let width = meta.width ?? 0;
  let height = meta.height ?? 0;
  let size = png.byteLength;
  for (let i = 0; i < MAX_TRIES && width > MIN_SIDE && height > MIN_SIDE; i++) {
    const scale = Math.min(0.9, Math.sqrt(limit / size) * 0.95);
    width = Math.max(MIN_SIDE, Math.floor(width * scale));
    height = Math.max(MIN_SIDE, Math.floor(height * scale));
    const smaller = await sharp(png).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).png({ compressionLevel: 9 }).toBuffer();
    if (smaller.byteLength <= limit) return smaller;
    size = smaller.byteLength;
  }
  return null;
}

/** Every file of a message fitted to the limit; a file that cannot fit is left out rather than failing the message. */
export async function fitFiles(files: readonly RenderedFile[], limit: number): Promise<RenderedFile[]> {
  const out: RenderedFile[] = [];
  for (const file of files) {
    const data = await fitPng(file.data, limit);
    if (data) out.push(data === file.data ? file : { ...file, data });
  }
  return out;
}
