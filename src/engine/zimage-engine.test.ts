import { deflateSync } from 'node:zlib';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeModerator, owner, tempDir, testConfig } from '../../test/support/fakes.ts';
import { fixturePixel, writeFixtureModel } from '../../test/support/fixtures/models.ts';
import { createLogger } from '../logging.ts';
import { Engine } from './engine.ts';
import { readTextChunks, withTextChunks } from './image/png-text.ts';
import { modelInfo } from './model/model-info.ts';
import { flowMatchSchedule, img2imgStartIndex } from './pipelines/z-image/flow-match-euler.ts';
import { noiseFor } from './pipelines/z-image/seeded-noise.ts';
import { StyleCatalog } from './prompt/styles.ts';
import type { GenerationRequest } from './request.ts';

// The engine with the real Z-Image pipeline in its worker, on a fixture model: bad inputs, faults, reproducibility.
const root = tempDir('zimage-engine-');
const modelDir = writeFixtureModel(join(root, 'model'), { kind: 'oracle', maxBatch: 4, textMask: true });
let engine: Engine;

beforeAll(async () => {
  const info = modelInfo(modelDir);
  engine = await Engine.start({
    config: testConfig({ dataDir: join(root, 'data'), limits: { maxInputPixels: 4_000_000 } }),
    models: { draft: info, refine: info, edit: info },
    styles: StyleCatalog.fromFile(join(import.meta.dirname, '../../config/styles.yaml')),
    // Flags anything narrower than 12 px: the preview of a single candidate (8×8 cells), nothing else.
    moderator: new FakeModerator((image) => image.width < 12),
    pipelineModule: new URL('./pipelines/z-image/index.ts', import.meta.url),
    pipelineOptions: { preload: [modelDir], maxLoaded: 2, previewIntervalMs: 0 },
    logger: createLogger('silent'),
  });
});
afterAll(async () => engine.shutdown());

async function run(request: Omit<GenerationRequest, 'owner'>) {
  const submitted = await engine.submit({ owner: owner('u'), ...request } as GenerationRequest);
  if (!submitted.ok) return { refused: submitted.error };
  return { end: await submitted.value.settled };
}

/** A PNG whose header claims 100000×100000 pixels: refused from the header, before anything is decoded. */
function bombPng(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(100))), chunk('IEND', Buffer.alloc(0))]);
}

describe('engine + Z-Image pipeline', () => {
  it('draws a draft and reproduces it byte for byte from the same seed', async () => {
    const first = await run({ role: 'draft', prompt: 'a red fox', seed: 123, count: 2 });
    const second = await run({ role: 'draft', prompt: 'a red fox', seed: 123, count: 2 });
    if (first.end?.type !== 'done' || second.end?.type !== 'done') throw new Error('expected two results');
    // Two jobs, the same seed and parameters: byte-identical files, text chunks included.
    expect(first.end.result.images[1]!.png!.equals(second.end.result.images[1]!.png!)).toBe(true);
    expect(first.end.result.images[0]!.png!.equals(second.end.result.images[1]!.png!)).toBe(false);
    expect(first.end.result.meta.provider).toBe('cpu');
  });

  it('refuses bad images, masks, regions, strengths and sizes before queueing, with one error each', async () => {
    const good = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
    const mask = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#102030' } }).jpeg().toBuffer();
    const cases: [Omit<GenerationRequest, 'owner'>, string][] = [
      [{ role: 'refine', prompt: 'x', image: { bytes: new TextEncoder().encode('not an image at all') } }, 'bad-image'],
      [{ role: 'refine', prompt: 'x', image: { bytes: jpeg.subarray(0, jpeg.length / 2) } }, 'bad-image'],
      [{ role: 'refine', prompt: 'x', image: { bytes: good.subarray(0, 60) } }, 'bad-image'],
      [{ role: 'refine', prompt: 'x', image: { bytes: bombPng() } }, 'image-too-large'],
      [{ role: 'refine', prompt: 'x', image: { bytes: new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>') } }, 'bad-image'],
      [{ role: 'edit', prompt: 'x', image: { bytes: good }, mask: { bytes: mask } }, 'bad-mask'],
      [{ role: 'edit', prompt: 'x', image: { bytes: good }, region: 'upper-middle' }, 'unknown-region'],
      [{ role: 'edit', prompt: 'x', image: { bytes: good }, region: '50,50,60,10' }, 'unknown-region'],
      [{ role: 'refine', prompt: 'x', image: { bytes: good }, strength: 1.5 }, 'out-of-range'],
      [{ role: 'refine', prompt: 'x', image: { bytes: good }, strength: -0.1 }, 'out-of-range'],
      [{ role: 'draft', prompt: 'x', width: 72, height: 64 }, 'bad-size'],
    ];
    const { existsSync: exists, readdirSync: list } = await import('node:fs');
    const inputsDir = join(root, 'data', 'inputs');
    const stored = exists(inputsDir) ? list(inputsDir).length : 0;
    for (const [request, code] of cases) {
      const outcome = await run(request);
      expect(outcome.refused?.code, `${request.role} ${JSON.stringify(Object.keys(request))} → ${code}`).toBe(code);
    }
    // Refusals leave no trace: no journal rows, no stored inputs.
    const { existsSync, readdirSync } = await import('node:fs');
    const inputs = join(root, 'data', 'inputs');
    expect(existsSync(inputs) ? readdirSync(inputs).length : 0).toBe(stored);
    const after = await run({ role: 'edit', prompt: 'a cat', image: { bytes: jpeg }, region: 'left' });
    expect(after.end?.type).toBe('done');
  });

  it('fails a job whose stored input vanished with a clear error, and keeps the worker healthy', async () => {
    const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer();
    const submitted = await engine.submit(
      { role: 'refine', owner: owner('v'), prompt: 'x', image: { bytes: image } },
      { onEvent: (e) => void (e.type === 'queued' && rmSync(engine.history.recent({ limit: 1 })[0]!.spec.image!, { force: true })) },
    );
    if (!submitted.ok) throw new Error(submitted.error.message);
    const end = await submitted.value.settled;
    expect(end).toMatchObject({ type: 'failed', error: { code: 'missing-image' } });
    expect((await run({ role: 'draft', prompt: 'still fine', count: 1 })).end?.type).toBe('done');
    expect(engine.stats().workers[0]!.restarts).toBe(0);
  });

  it('shows previews only once the classifier has passed them', async () => {
    const previewsOf = async (count: number): Promise<number> => {
      let previews = 0;
      const submitted = await engine.submit(
        { role: 'draft', owner: owner('p'), prompt: 'a cat', count, steps: 16 },
        { onEvent: (e) => void (e.type === 'progress' && e.preview && (previews += 1)) },
      );
      if (!submitted.ok) throw new Error(submitted.error.message);
      expect((await submitted.value.settled).type).toBe('done');
      return previews;
    };
    expect(await previewsOf(2)).toBeGreaterThan(0);
    expect(await previewsOf(1)).toBe(0);
  });

  it('keeps the aspect ratio of the input image when refining', async () => {
    const wide = await sharp({ create: { width: 160, height: 90, channels: 3, background: '#aa5500' } }).png().toBuffer();
    const outcome = await run({ role: 'refine', prompt: 'x', image: { bytes: withTextChunks(wide, { note: 'a chunk' }) }, strength: 0.5 });
    if (outcome.end?.type !== 'done') throw new Error(JSON.stringify(outcome));
    const { width, height } = outcome.end.result.meta;
    expect(width).toBeGreaterThan(height);
  });
});

describe('engine + Z-Image pipeline: a refine of a stored draft', () => {
  it('starts from the latents the draft was decoded from, through the stored PNG and its text chunks, with the model’s inversion', async () => {
    // The model asks for noise inversion at 0.6: the still model inverts a source to noise = x₀, so a refine starts
    // from σ₀·(0.6·x₀ + 0.8·noise) + (1 − σ₀)·x₀ and keeps it.
    const stillDir = writeFixtureModel(join(root, 'still'), { kind: 'still', defaults: { refine: { inversion: 0.6 } } });
    const info = modelInfo(stillDir);
    const still = await Engine.start({
      config: testConfig({ dataDir: join(root, 'still-data') }),
      models: { draft: info, refine: info, edit: info },
      styles: StyleCatalog.fromFile(join(import.meta.dirname, '../../config/styles.yaml')),
      moderator: new FakeModerator(() => false),
      pipelineModule: new URL('./pipelines/z-image/index.ts', import.meta.url),
      pipelineOptions: { preload: [stillDir], maxLoaded: 1, previewIntervalMs: 0 },
      logger: createLogger('silent'),
    });
    try {
      const settle = async (request: Omit<GenerationRequest, 'owner'>) => {
        const submitted = await still.submit({ owner: owner('s'), ...request } as GenerationRequest);
        if (!submitted.ok) throw new Error(submitted.error.message);
        const end = await submitted.value.settled;
        if (end.type !== 'done') throw new Error(JSON.stringify(end));
        return end.result;
      };
      // The still model's draft is its starting noise; its decode clips most cells, so an encoder could not recover it.
      const draft = await settle({ role: 'draft', prompt: 'a red fox', seed: 7, count: 1 });
      const drafted = draft.images[0]!;
      // At the model's own strength (0.6, no refine strength named), where its inversion applies.
      const refined = await settle({ role: 'refine', prompt: 'a red fox', seed: 9, image: { path: drafted.path! } });
      const { steps, strength, shift, width } = refined.meta;
      const sigma0 = flowMatchSchedule(steps, shift).sigmas[img2imgStartIndex(steps, strength)]!;
      const cells = width / 8;
      const size = 16 * cells * cells;
      const [x0, noise] = [noiseFor(drafted.noise, size), noiseFor(refined.images[0]!.noise, size)];
      const pixels = await sharp(refined.images[0]!.png!).raw().toBuffer();
      const shown = await sharp(drafted.png!).raw().toBuffer();
      const off: string[] = [];
      let clipped = 0;
      for (let ly = 0; ly < cells; ly++) {
        for (let lx = 0; lx < cells; lx++) {
          const p = ((ly * 8 + 4) * width + lx * 8 + 4) * 3;
          for (let c = 0; c < 3; c++) {
            const at = c * cells * cells + ly * cells + lx;
            if (shown[p + c] === 0 || shown[p + c] === 255) clipped++;
            const expected = fixturePixel(sigma0 * (0.6 * x0[at]! + 0.8 * noise[at]!) + (1 - sigma0) * x0[at]!);
            if (Math.abs(pixels[p + c]! - expected) > 1) off.push(`cell ${lx},${ly} channel ${c}: ${pixels[p + c]} vs ${expected}`);
          }
        }
      }
      expect(off).toEqual([]);
      expect(clipped).toBeGreaterThan(cells * cells); // so the encoder's reading of the draft would not pass
      expect(JSON.parse(readTextChunks(refined.images[0]!.png!)['zimage-bot']!)).toMatchObject({ role: 'refine', sourceLatents: 'remembered', inversion: 0.6 });
      expect(readTextChunks(refined.images[0]!.png!)['parameters']).toMatch(/, Denoising strength: 0\.6, Noise inversion: 0\.6$/m);
      expect(JSON.parse(readTextChunks(drafted.png!)['zimage-bot']!)).not.toHaveProperty('inversion');
    } finally {
      await still.shutdown();
    }
  });
});
