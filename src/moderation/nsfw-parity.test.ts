import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNsfwRunner as loadNsfwjs } from '../../test/support/nsfwjs-reference.ts';
import { NSFW_INPUT_SIZE, NSFW_MODELS, type NsfwModelName } from './config.ts';
import { resizeForModel } from './model-input.ts';
import { loadNsfwRunner as loadOnnx } from './nsfw-onnx.ts';
import type { NsfwRunner } from './nsfw-protocol.ts';
import type { NsfwClass, RgbImage } from './verdict.ts';

/**
 * The ONNX graphs in models/nsfw against nsfwjs' own execution of the models it ships (nsfwjs `infer` on tfjs
 * wasm): the same resized pixels in, every class probability within 1e-3. The images are 4:3 like a photo and go
 * through the classifier's own resize first.
 */
const TOLERANCE = 1e-3;
const WIDTH = 320;
const HEIGHT = 240;

/** Deterministic values in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 2 ** 24;
  };
}

function image(pixel: (x: number, y: number) => readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) data.set(pixel(x, y).map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * WIDTH + x) * 3);
  return { width: WIDTH, height: HEIGHT, data };
}

const noise = (() => {
  const next = random(7);
  return image(() => [next() * 256, next() * 256, next() * 256]);
})();

const gradient = image((x, y) => [(x / WIDTH) * 255, (y / HEIGHT) * 255, 255 - (x / WIDTH) * 255]);

const skinTone = image(() => [224, 172, 140]);

/**
 * A photo-like scene: sky, sea and sand, and a figure in skin tones lit from the left (a shaded head and bare
 * shoulders and arms over a swimsuit), with sensor noise — smooth regions, soft edges and texture, as a camera gives.
 */
const beachPortrait = (() => {
  const next = random(11);
  const shade = (nx: number, ny: number): number => Math.max(0.35, 0.75 - 0.45 * nx - 0.2 * ny);
  const ellipse = (x: number, y: number, cx: number, cy: number, rx: number, ry: number): { inside: boolean; nx: number; ny: number } => {
    const nx = (x - cx) / rx;
    const ny = (y - cy) / ry;
    return { inside: nx * nx + ny * ny <= 1, nx, ny };
  };
  return image((x, y) => {
    const grain = (next() - 0.5) * 14;
    const skin = (light: number): [number, number, number] => [232 * light + 30 + grain, 170 * light + 22 + grain, 138 * light + 15 + grain];
    const head = ellipse(x, y, 160, 70, 28, 36);
    const hair = ellipse(x, y, 160, 55, 32, 30);
    const torso = ellipse(x, y, 160, 190, 62, 80);
    const armLeft = ellipse(x, y, 92, 190, 16, 60);
    const armRight = ellipse(x, y, 228, 190, 16, 60);
    if (head.inside) return skin(shade(head.nx, head.ny));
    if (hair.inside && y < 60) return [60 + grain, 38 + grain, 25 + grain];
    if (armLeft.inside) return skin(shade(armLeft.nx, armLeft.ny));
    if (armRight.inside) return skin(shade(armRight.nx, armRight.ny));
    if (torso.inside) {
      const swimsuit = (y > 160 && y < 185 && Math.abs(x - 160) > 8) || y > 225;
      return swimsuit ? [170 + grain, 30 + grain, 60 + grain] : skin(shade(torso.nx, torso.ny));
    }
    if (y < 100) return [120 + y * 0.9 + grain, 170 + y * 0.6 + grain, 235 + grain];
    if (y < 150) return [30 + grain, 110 + 20 * Math.sin(x / 9 + y / 3) + grain, 160 + grain];
    return [215 + grain, 190 + grain, 150 + grain];
  });
})();

const IMAGES: Readonly<Record<string, RgbImage>> = { noise, gradient, skinTone, beachPortrait };
const CLASSES: readonly NsfwClass[] = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

describe.each(NSFW_MODELS)('%s as ONNX against nsfwjs', (name: NsfwModelName) => {
  let onnx: NsfwRunner;
  let nsfwjs: NsfwRunner;
  const inputs = new Map<string, Uint8Array>();

  beforeAll(async () => {
    [onnx, nsfwjs] = await Promise.all([loadOnnx(name), loadNsfwjs(name)]);
    for (const [label, img] of Object.entries(IMAGES)) inputs.set(label, await resizeForModel(img, NSFW_INPUT_SIZE[name]));
  }, 180_000);

  afterAll(() => {
    onnx?.dispose();
    nsfwjs?.dispose();
  });

  it.each(Object.keys(IMAGES))('scores %s as nsfwjs does, every class within 1e-3', async (label) => {
    const pixels = inputs.get(label)!;
    const [mine, reference] = [await onnx.classify(pixels), await nsfwjs.classify(pixels)];
    for (const cls of CLASSES) {
      expect(Number.isFinite(mine[cls]), `${cls} is a number`).toBe(true);
      expect(Math.abs(mine[cls] - reference[cls]), `${label} ${cls}: onnx ${mine[cls]}, nsfwjs ${reference[cls]}`).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});
