import sharp from 'sharp';

/**
 * The fake ComfyUI's pixels: deterministic pictures from the seed and the prompt (a background colour and a block
 * placed by a hash of both), blended over a source image by the denoise and kept outside a noise mask, as img2img and
 * inpainting keep them. Same seed, prompt and size → the same pixels, which is what the tests check.
 */

export interface FakeImage {
  readonly width: number;
  readonly height: number;
  /** RGB, row-major. */
  readonly data: Uint8Array;
}

/** A mask in [0, 1], 1 = change. */
export interface FakeMask {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The picture a sampler draws for (seed, prompt) at a size. */
export function drawPattern(seed: number, prompt: string, width: number, height: number): FakeImage {
  const h = fnv1a(`${seed}|${prompt}`);
  const h2 = fnv1a(`${prompt}|${seed}|block`);
  const bg = [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
  const fg = [255 - bg[0]!, 255 - bg[1]!, 255 - bg[2]!];
  const bw = Math.max(1, Math.floor(width * (0.2 + ((h2 & 0xff) / 255) * 0.4)));
  const bh = Math.max(1, Math.floor(height * (0.2 + (((h2 >>> 8) & 0xff) / 255) * 0.4)));
  const bx = Math.floor((((h2 >>> 16) & 0xff) / 255) * (width - bw));
  const by = Math.floor((((h2 >>> 24) & 0xff) / 255) * (height - bh));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const shade = Math.round((y / Math.max(1, height - 1)) * 24);
    for (let x = 0; x < width; x++) {
      const inside = x >= bx && x < bx + bw && y >= by && y < by + bh;
      const colour = inside ? fg : bg;
      const i = (y * width + x) * 3;
      data[i] = Math.min(255, colour[0]! + shade);
      data[i + 1] = Math.min(255, colour[1]! + shade);
      data[i + 2] = Math.min(255, colour[2]! + shade);
    }
  }
  return { width, height, data };
}

/** img2img: the source kept by (1 − denoise), and outside the noise mask kept whole. */
export function blend(drawn: FakeImage, base: FakeImage | undefined, denoise: number, mask: FakeMask | undefined): FakeImage {
  if (!base) return drawn;
  if (base.width !== drawn.width || base.height !== drawn.height) throw new Error(`latent ${drawn.width}x${drawn.height} does not match image ${base.width}x${base.height}`);
  const data = new Uint8Array(drawn.data.length);
  const pixels = drawn.width * drawn.height;
  for (let p = 0; p < pixels; p++) {
    const m = mask ? (mask.data[maskIndex(mask, drawn, p)]! >= 0.5 ? 1 : 0) : 1;
    const t = denoise * m;
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(base.data[p * 3 + c]! * (1 - t) + drawn.data[p * 3 + c]! * t);
  }
  return { width: drawn.width, height: drawn.height, data };
}

function maskIndex(mask: FakeMask, image: FakeImage, p: number): number {
  if (mask.width === image.width && mask.height === image.height) return p;
  const x = p % image.width;
  const y = Math.floor(p / image.width);
  return Math.min(mask.height - 1, Math.floor((y * mask.height) / image.height)) * mask.width + Math.min(mask.width - 1, Math.floor((x * mask.width) / image.width));
}

/** ImageCompositeMasked at (0, 0): the source where the mask is set, the destination elsewhere. */
export function composite(destination: FakeImage, source: FakeImage, mask: FakeMask | undefined): FakeImage {
  const data = new Uint8Array(destination.data);
  const pixels = destination.width * destination.height;
  for (let p = 0; p < pixels; p++) {
    if (p >= source.width * source.height) break;
    const m = mask ? mask.data[maskIndex(mask, destination, p)]! : 1;
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(destination.data[p * 3 + c]! * (1 - m) + source.data[p * 3 + c]! * m);
  }
  return { width: destination.width, height: destination.height, data };
}

export async function decodeImage(bytes: Buffer): Promise<{ image: FakeImage; alpha: Uint8Array | null }> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixels = info.width * info.height;
  const rgb = new Uint8Array(pixels * 3);
  const alpha = new Uint8Array(pixels);
  let opaque = true;
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = data[p * 4]!;
    rgb[p * 3 + 1] = data[p * 4 + 1]!;
    rgb[p * 3 + 2] = data[p * 4 + 2]!;
    alpha[p] = data[p * 4 + 3]!;
    if (alpha[p] !== 255) opaque = false;
  }
  const hasAlpha = (await sharp(bytes).metadata()).hasAlpha === true;
  return { image: { width: info.width, height: info.height, data: rgb }, alpha: hasAlpha || !opaque ? alpha : null };
}

export function encodePng(image: FakeImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

/** A latent preview as ComfyUI sends one: a small JPEG of the first image. */
export function encodePreview(image: FakeImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(64, 64, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer();
}

export async function resize(image: FakeImage, width: number, height: number): Promise<FakeImage> {
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).resize(width, height, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer();
  return { width, height, data: new Uint8Array(data) };
}
