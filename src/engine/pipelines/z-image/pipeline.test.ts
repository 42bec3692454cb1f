import { Tokenizer } from '@huggingface/tokenizers';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/support/fakes.ts';
import {
  FIXTURE_HIDDEN,
  FIXTURE_LOGVAR,
  FIXTURE_SCALING,
  FIXTURE_SHIFT,
  fixtureEmbeddings,
  fixturePixel as pixel,
  writeFixtureModel,
} from '../../../../test/support/fixtures/models.ts';
import { fixtureTokenizerJson } from '../../../../test/support/fixtures/tokenizer.ts';
import { jobSpec, recordingContext } from '../../../../test/support/specs.ts';
import { EngineFailure } from '../../errors.ts';
import { PipelineCancelled, type Pipeline, type PipelineOutput } from '../../pipeline.ts';
import { flowMatchSchedule, img2imgStartIndex } from './flow-match-euler.ts';
import { createPipeline } from './index.ts';
import { noiseFor, SeededGaussian } from './seeded-noise.ts';

const TEMPLATE = (p: string): string => `<|im_start|>user\n${p}<|im_end|>\n<|im_start|>assistant\n`;
const tokenizer = new Tokenizer(fixtureTokenizerJson(), {});
const table = fixtureEmbeddings();

/** The oracle's target latent for a prompt: the mean embedding of its templated tokens (computed here, not by the pipeline). */
function target(prompt: string, maxLength = 64): number[] {
  const ids = tokenizer.encode(TEMPLATE(prompt), { add_special_tokens: false }).ids.slice(0, maxLength);
  const mean = new Array<number>(FIXTURE_HIDDEN).fill(0);
  for (const id of ids) for (let c = 0; c < FIXTURE_HIDDEN; c++) mean[c]! += table[id * FIXTURE_HIDDEN + c]! / ids.length;
  return mean;
}

/** The fixture encoder's latent for a flat RGB value. */
const encoded = (v: number): number => ((v / 255) * 2 - 1 - FIXTURE_SHIFT) * FIXTURE_SCALING;

const rgbAt = (out: PipelineOutput, candidate: number, x: number, y: number): number[] => {
  const c = out.candidates[candidate]!;
  const i = (y * c.width + x) * 3;
  return [c.data[i]!, c.data[i + 1]!, c.data[i + 2]!];
};

const closeTo = (actual: number[], expected: number[], tolerance = 1): void => {
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]!), `channel ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance));
};

const root = tempDir('zimage-fixtures-');
const dirs = {
  oracle: writeFixtureModel(join(root, 'oracle'), { kind: 'oracle', maxLength: 64 }),
  oracleShort: writeFixtureModel(join(root, 'oracle-short'), { kind: 'oracle', maxLength: 12 }),
  still: writeFixtureModel(join(root, 'still'), { kind: 'still' }),
  drift: writeFixtureModel(join(root, 'drift'), { kind: 'drift' }),
  randomBatched: writeFixtureModel(join(root, 'random-b4'), { kind: 'random', float16: true, maxBatch: 4, textMask: true }),
  randomSequential: writeFixtureModel(join(root, 'random-b1'), { kind: 'random', float16: true, maxBatch: 1 }),
  randomNoMask: writeFixtureModel(join(root, 'random-nomask'), { kind: 'random', float16: true, maxBatch: 4 }),
  dropBatch: writeFixtureModel(join(root, 'drop-batch'), { kind: 'oracle', dropBatch: true }),
  stillLogvar: writeFixtureModel(join(root, 'still-logvar'), { kind: 'still', encoderPosterior: 'logvar' }),
  stillMoments: writeFixtureModel(join(root, 'still-moments'), { kind: 'still', encoderPosterior: 'moments' }),
  oracleBatchOne: writeFixtureModel(join(root, 'oracle-te-b1'), { kind: 'oracle', textEncoderBatchOne: true }),
};

let pipeline: Pipeline;
/** The same pipeline remembering no outputs' latents: every source goes through the encoder. */
let withoutMemo: Pipeline;
const logs: string[] = [];
beforeAll(async () => {
  pipeline = await createPipeline({
    device: { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 },
    options: { preload: [], maxLoaded: 8, previewIntervalMs: 0 },
    log: (level, message) => logs.push(`${level} ${message}`),
  });
  withoutMemo = await createPipeline({
    device: { name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 },
    options: { preload: [], maxLoaded: 2, previewIntervalMs: 0, latentMemoMiB: 0 },
    log: () => undefined,
  });
});
afterAll(async () => Promise.all([pipeline.dispose(), withoutMemo.dispose()]));

async function pngOf(data: Uint8Array, name: string): Promise<string> {
  const path = join(root, name);
  writeFileSync(path, await sharp(Buffer.from(data), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer());
  return path;
}

/** A still-model refine of `image` through `through`. */
const stillRefine = (through: Pipeline, image: string): Promise<PipelineOutput> =>
  through.run(jobSpec(dirs.still, { role: 'refine', image, strength: 0.6, seeds: [9] }), recordingContext());

const sameBytes = (a: PipelineOutput, b: PipelineOutput): boolean => Buffer.from(a.candidates[0]!.data).equals(Buffer.from(b.candidates[0]!.data));

async function flatImage(rgb: [number, number, number], width = 64, height = 64): Promise<string> {
  const path = join(root, `flat-${rgb.join('-')}-${width}x${height}.png`);
  writeFileSync(path, await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer());
  return path;
}

describe('text-to-image on the oracle', () => {
  it('lands exactly on the prompt’s target latent and reports every step', async () => {
    const context = recordingContext();
    const out = await pipeline.run(jobSpec(dirs.oracle, { prompt: 'a red fox' }), context);
    const expected = target('a red fox').slice(0, 3).map(pixel);
    closeTo(rgbAt(out, 0, 0, 0), expected);
    closeTo(rgbAt(out, 0, 63, 63), expected);
    expect(context.steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((s) => [s, 8]));
    expect(out.truncated).toEqual([]);
    expect([out.candidates[0]!.width, out.candidates[0]!.height]).toEqual([64, 64]);
  });

  it('previews what the image is becoming: the oracle’s x₀ prediction is its target from the first step', async () => {
    const context = recordingContext();
    const out = await pipeline.run(jobSpec(dirs.oracle, { prompt: 'a red fox', seeds: [1, 2, 3] }), context);
    // A preview after every step but the last (interval 0 here), one pixel per latent cell, candidates in a 2×2 grid.
    expect(context.previews).toHaveLength(7);
    const preview = context.previews[0]!;
    expect([preview.width, preview.height]).toEqual([8 * 2 + 1, 8 * 2 + 1]);
    const final = rgbAt(out, 0, 10, 10);
    const cell = [...preview.data.subarray((3 * preview.width + 3) * 3, (3 * preview.width + 3) * 3 + 3)];
    closeTo(cell, final, 3);
    // The empty fourth slot of the grid stays the dark background.
    expect([...preview.data.subarray(((preview.height - 1) * preview.width + preview.width - 1) * 3).slice(0, 3)]).toEqual([24, 24, 24]);
  });

  it('handles Chinese prompts through the same tokenizer and template', async () => {
    const out = await pipeline.run(jobSpec(dirs.oracle, { prompt: '一个红色的圆形' }), recordingContext());
    closeTo(rgbAt(out, 0, 10, 10), target('一个红色的圆形').slice(0, 3).map(pixel));
    expect(target('一个红色的圆形')).not.toEqual(target('a red fox'));
  });

  it('encodes a prompt literally, even one with $ patterns', async () => {
    const prompt = 'a fox $& friends';
    const out = await pipeline.run(jobSpec(dirs.oracle, { prompt }), recordingContext());
    closeTo(rgbAt(out, 0, 10, 10), target(prompt).slice(0, 3).map(pixel));
    // What String.replace would have made of it: the pattern's match pasted in.
    expect(target(prompt)).not.toEqual(target('a fox {prompt} friends'));
  });

  it('applies CFG: lands on (1 + g)·T⁺ − g·T⁻', async () => {
    const g = 0.5;
    const out = await pipeline.run(jobSpec(dirs.oracle, { prompt: 'a cat', negativePrompt: 'blue', guidance: g }), recordingContext());
    const pos = target('a cat');
    const neg = target('blue');
    closeTo(rgbAt(out, 0, 5, 5), [0, 1, 2].map((c) => pixel((1 + g) * pos[c]! - g * neg[c]!)));
  });

  it('stops guiding past cfg_truncation, so the last steps land on T⁺', async () => {
    const out = await pipeline.run(
      jobSpec(dirs.oracle, { prompt: 'a cat', negativePrompt: 'blue', guidance: 3, cfgTruncation: 0.5 }),
      recordingContext(),
    );
    closeTo(rgbAt(out, 0, 5, 5), target('a cat').slice(0, 3).map(pixel));
  });

  it('renormalises guided predictions with cfg_normalization', async () => {
    const spec = { prompt: 'a cat', negativePrompt: 'blue', guidance: 0.5 } as const;
    const plain = await pipeline.run(jobSpec(dirs.oracle, spec), recordingContext());
    const normalised = await pipeline.run(jobSpec(dirs.oracle, { ...spec, cfgNormalization: 0.9 }), recordingContext());
    expect(Buffer.from(normalised.candidates[0]!.data).equals(Buffer.from(plain.candidates[0]!.data))).toBe(false);
  });

  it('reports truncation at the max length instead of hiding it', async () => {
    const prompt = 'a red fox on the circle of the cat';
    const out = await pipeline.run(jobSpec(dirs.oracleShort, { prompt }), recordingContext());
    expect(out.truncated).toHaveLength(1);
    expect(out.truncated[0]).toMatchObject({ prompt, kept: 12 });
    expect(out.truncated[0]!.tokens).toBeGreaterThan(12);
    closeTo(rgbAt(out, 0, 0, 0), target(prompt, 12).slice(0, 3).map(pixel));
  });

  it('accepts exports that drop the batch axis', async () => {
    const out = await pipeline.run(jobSpec(dirs.dropBatch, { seeds: [1, 2] }), recordingContext());
    expect(out.candidates).toHaveLength(2);
    closeTo(rgbAt(out, 1, 3, 3), target('a red fox').slice(0, 3).map(pixel));
  });

  it('cancels between steps', async () => {
    const context = recordingContext(3);
    await expect(pipeline.run(jobSpec(dirs.oracle), context)).rejects.toBeInstanceOf(PipelineCancelled);
    expect(context.steps).toHaveLength(3);
  });
});

describe('image-to-image', () => {
  for (const strength of [1, 0.6, 0.3]) {
    it(`starts at the first kept sigma and runs only the kept steps (strength ${strength})`, async () => {
      const source = await flatImage([200, 100, 50]);
      const context = recordingContext();
      const spec = jobSpec(dirs.still, { role: 'refine', image: source, strength, seeds: [9] });
      const out = await pipeline.run(spec, context);
      const start = img2imgStartIndex(8, strength);
      const sigma0 = flowMatchSchedule(8, 3).sigmas[start]!;
      expect(context.steps.length).toBe(8 - start);
      const noise = noiseFor({ seed: 9 }, 16 * 8 * 8);
      // The still model keeps x = σ₀·noise + (1 − σ₀)·x₀; check a few latent cells through the linear decoder.
      for (const [lx, ly] of [[0, 0], [3, 5], [7, 7]] as const) {
        const expected = [200, 100, 50].map((v, c) => pixel(sigma0 * noise[c * 64 + ly * 8 + lx]! + (1 - sigma0) * encoded(v)));
        closeTo(rgbAt(out, 0, lx * 8 + 4, ly * 8 + 4), expected);
      }
    });
  }

  it('starts each candidate from its own source when a job edits several images at once', async () => {
    const sources = [await flatImage([200, 100, 50]), await flatImage([20, 60, 220])];
    const spec = jobSpec(dirs.still, { role: 'edit', image: sources[0], strength: 0.3, seeds: [9, 10] });
    const out = await pipeline.run({ ...spec, candidates: spec.candidates.map((c, k) => ({ ...c, image: sources[k]! })) }, recordingContext());
    const sigma0 = flowMatchSchedule(8, 3).sigmas[img2imgStartIndex(8, 0.3)]!;
    for (const [k, rgb] of [[0, [200, 100, 50]], [1, [20, 60, 220]]] as const) {
      const noise = noiseFor({ seed: 9 + k }, 16 * 8 * 8);
      const expected = rgb.map((v, c) => pixel(sigma0 * noise[c * 64 + 3 * 8 + 3]! + (1 - sigma0) * encoded(v)));
      closeTo(rgbAt(out, k, 3 * 8 + 4, 3 * 8 + 4), expected);
    }
  });

  it('starts a refine of one of the model’s own outputs from the latents it was decoded from; any other picture is encoded', async () => {
    // The still model's draft is its noise, x₀ = noise(7), decoded through the linear VAE, which clips most cells.
    const drawn = await pipeline.run(jobSpec(dirs.still, { seeds: [7] }), recordingContext());
    const draft = drawn.candidates[0]!;
    const ownPath = await pngOf(draft.data, 'own-draft.png');
    const touched = Uint8Array.from(draft.data);
    touched[0] = touched[0]! ^ 1; // one pixel's red channel, in the corner cell
    const touchedPath = await pngOf(touched, 'own-draft-touched.png');
    const [own, encodedOwn] = [await stillRefine(pipeline, ownPath), await stillRefine(withoutMemo, ownPath)];
    const [other, encodedOther] = [await stillRefine(pipeline, touchedPath), await stillRefine(withoutMemo, touchedPath)];
    const sigma0 = flowMatchSchedule(8, 3).sigmas[img2imgStartIndex(8, 0.6)]!;
    const drafted = noiseFor({ seed: 7 }, 16 * 8 * 8);
    const noise = noiseFor({ seed: 9 }, 16 * 8 * 8);
    let clipped = 0;
    for (const [lx, ly] of [[1, 1], [3, 5], [7, 7], [6, 2]] as const) {
      const at = (c: number): number => c * 64 + ly * 8 + lx;
      const shown = rgbAt(drawn, 0, lx * 8 + 4, ly * 8 + 4);
      clipped += shown.filter((v) => v === 0 || v === 255).length;
      // Remembered: the draft's own latents, clipped values and all; encoded: the latents of the clipped pixels.
      closeTo(rgbAt(own, 0, lx * 8 + 4, ly * 8 + 4), [0, 1, 2].map((c) => pixel(sigma0 * noise[at(c)]! + (1 - sigma0) * drafted[at(c)]!)));
      closeTo(rgbAt(encodedOwn, 0, lx * 8 + 4, ly * 8 + 4), shown.map((v, c) => pixel(sigma0 * noise[at(c)]! + (1 - sigma0) * encoded(v))));
    }
    expect(clipped).toBeGreaterThan(3);
    expect(sameBytes(own, encodedOwn)).toBe(false);
    // A picture one pixel away from an output is not that output: it is encoded, as it would be without the memo.
    expect(sameBytes(other, encodedOther)).toBe(true);
    // Each says where it started, which the PNG records: the two starts give different pixels.
    expect([drawn, own, encodedOwn, other].map((o) => o.candidates[0]!.sourceLatents)).toEqual([undefined, 'remembered', 'encoded', 'encoded']);
  });

  it('refuses a strength that leaves no step to run, naming the smallest strength that runs one', async () => {
    const source = await flatImage([30, 160, 90]);
    const error = await pipeline.run(jobSpec(dirs.oracle, { role: 'refine', image: source, strength: 0 }), recordingContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineFailure);
    expect((error as EngineFailure).error).toMatchObject({ code: 'no-denoising-steps', params: { steps: 8, min: 0.125 } });
    expect((error as EngineFailure).error.message).toMatch(/at least 0\.125/);
  });

  it('runs exactly one step for any strength from just above 0 to 1/N', async () => {
    const source = await flatImage([30, 160, 90]);
    for (const strength of [0.01, 0.125]) {
      const context = recordingContext();
      await pipeline.run(jobSpec(dirs.still, { role: 'refine', image: source, strength }), context);
      expect(context.steps).toEqual([[1, 1]]);
    }
  });
});

describe('noise inversion', () => {
  // Strength 0.6 of 8 steps keeps 5; the inversion runs 5 backward steps first.
  const refineOf = (dir: string, image: string, inversion: number, seeds = [9]) => jobSpec(dir, { role: 'refine', image, strength: 0.6, inversion, seeds });

  it('reads back the noise the kept steps turn into the source: at share 1 the refine returns the source exactly', async () => {
    const source = await flatImage([200, 100, 50]);
    const context = recordingContext();
    const inverted = await pipeline.run(refineOf(dirs.drift, source, 1), context);
    const plain = await pipeline.run(refineOf(dirs.drift, source, 0), recordingContext());
    // The drift model's velocity depends only on the timestep: backward and forward steps cancel only when each
    // backward step takes its velocity at the timestep its forward step takes, so any misalignment shows here.
    for (const [x, y] of [[4, 4], [28, 44], [60, 60]] as const) {
      closeTo(rgbAt(inverted, 0, x, y), [200, 100, 50]);
      expect(rgbAt(plain, 0, x, y)).not.toEqual(rgbAt(inverted, 0, x, y));
    }
    expect(context.steps).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1, 10]));
    expect(inverted.timings.stepMs).toHaveLength(10);
  });

  it('mixes share·inverted + √(1 − share²)·seeded noise, so the candidates of one source still differ', async () => {
    const source = await flatImage([200, 100, 50]);
    const out = await pipeline.run(refineOf(dirs.drift, source, 0.7, [9, 10]), recordingContext());
    // The drift model's steps add D = Σ (σᵢ − σᵢ₊₁)·σᵢ·T from the first kept step; the inversion climbs to x₀ − D, so
    // its noise is x₀ − D/σ₀ and the refine lands on (1 − σ₀)·x₀ + σ₀·(0.7·(x₀ − D/σ₀) + √0.51·noise) + D.
    const { sigmas } = flowMatchSchedule(8, 3);
    const start = img2imgStartIndex(8, 0.6);
    const sigma0 = sigmas[start]!;
    let drift = 0;
    for (let i = start; i < 8; i++) drift += (sigmas[i]! - sigmas[i + 1]!) * sigmas[i]!;
    const T = target('a red fox');
    for (const k of [0, 1]) {
      const seeded = noiseFor({ seed: 9 + k }, 16 * 8 * 8);
      const expected = [200, 100, 50].map((v, c) => {
        const [x0, D] = [encoded(v), drift * T[c]!];
        return pixel((1 - sigma0) * x0 + sigma0 * (0.7 * (x0 - D / sigma0) + Math.sqrt(0.51) * seeded[c * 64 + 3 * 8 + 3]!) + D);
      });
      closeTo(rgbAt(out, k, 3 * 8 + 4, 3 * 8 + 4), expected);
    }
    expect(Buffer.from(out.candidates[0]!.data).equals(Buffer.from(out.candidates[1]!.data))).toBe(false);
  });

  it('inverts each candidate from its own source when a job refines several images at once', async () => {
    const sources = [await flatImage([200, 100, 50]), await flatImage([20, 60, 220])];
    const spec = refineOf(dirs.drift, sources[0]!, 1, [9, 10]);
    const out = await pipeline.run({ ...spec, candidates: spec.candidates.map((c, k) => ({ ...c, image: sources[k]! })) }, recordingContext());
    closeTo(rgbAt(out, 0, 28, 28), [200, 100, 50]);
    closeTo(rgbAt(out, 1, 28, 28), [20, 60, 220]);
  });

  it('cancels between backward steps', async () => {
    const source = await flatImage([200, 100, 50]);
    const context = recordingContext(2);
    await expect(pipeline.run(refineOf(dirs.drift, source, 1), context)).rejects.toBeInstanceOf(PipelineCancelled);
    expect(context.steps).toEqual([[1, 10], [2, 10]]);
  });
});

describe('VAE encoder posterior', () => {
  it('samples the posterior from an encoder with a log-variance, from the candidate’s own seeded stream', async () => {
    const source = await flatImage([200, 100, 50]);
    const strength = 0.6;
    const run = (dir: string) => pipeline.run(jobSpec(dir, { role: 'refine', image: source, strength, seeds: [9] }), recordingContext());
    const sampled = await run(dirs.stillLogvar);
    const start = img2imgStartIndex(8, strength);
    const sigma0 = flowMatchSchedule(8, 3).sigmas[start]!;
    const noise = noiseFor({ seed: 9 }, 16 * 8 * 8);
    // The posterior's noise: the seeded generator at seed 9 XOR 0x6a09e667, a stream apart from the starting noise.
    const eps = new SeededGaussian((9 ^ 0x6a09e667) >>> 0).fill(new Float32Array(16 * 8 * 8));
    const std = Math.exp(0.5 * FIXTURE_LOGVAR);
    for (const [lx, ly] of [[0, 0], [3, 5], [7, 7], [6, 1]] as const) {
      const expected = [200, 100, 50].map((v, c) => {
        const i = c * 64 + ly * 8 + lx;
        const z = (v / 255) * 2 - 1 + std * eps[i]!;
        return pixel(sigma0 * noise[i]! + (1 - sigma0) * (z - FIXTURE_SHIFT) * FIXTURE_SCALING);
      });
      closeTo(rgbAt(sampled, 0, lx * 8 + 4, ly * 8 + 4), expected);
    }
    // Reproducible, the same whether the log-variance is its own output or stacked on the channel axis, and not the mean.
    const again = await run(dirs.stillLogvar);
    const stacked = await run(dirs.stillMoments);
    const mean = await run(dirs.still);
    expect(Buffer.from(again.candidates[0]!.data).equals(Buffer.from(sampled.candidates[0]!.data))).toBe(true);
    expect(Buffer.from(stacked.candidates[0]!.data).equals(Buffer.from(sampled.candidates[0]!.data))).toBe(true);
    expect(Buffer.from(mean.candidates[0]!.data).equals(Buffer.from(sampled.candidates[0]!.data))).toBe(false);
  });

  it('refuses an encoder output with twice the channels that the manifest does not declare as moments', async () => {
    const dir = writeFixtureModel(join(root, 'moments-undeclared'), { kind: 'still', encoderPosterior: 'moments' });
    const fs = await import('node:fs');
    const manifest = JSON.parse(fs.readFileSync(join(dir, 'model.json'), 'utf8'));
    delete manifest.vaeEncoder.moments;
    fs.writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
    const source = await flatImage([200, 100, 50]);
    const error = await pipeline.run(jobSpec(dir, { role: 'refine', image: source, strength: 0.6 }), recordingContext()).catch((e: unknown) => e);
    expect((error as EngineFailure).error).toMatchObject({ code: 'model-error' });
    expect((error as EngineFailure).error.message).toMatch(/vaeEncoder\.moments/);
  });
});

describe('inpaint', () => {
  it('blends per step with the mask binarised at 0.5 and sampled nearest onto the latent grid (no composite)', async () => {
    const source = await flatImage([40, 40, 200], 64, 64);
    // A mask drawn so that a feathered, area-averaged mask would give other cells than diffusers' rule:
    //   rows 0–31: 0.6 on every eighth column (x = 0, 8, …) only, else 0 — each block's top-left pixel is 0.6 → 1;
    //   rows 32–47: white except on the lines x ≡ 0 or y ≡ 0 (mod 8) — each block's top-left pixel is 0 → kept;
    //   rows 48–63: 0.4 everywhere → 0 → kept.
    const pixels = Buffer.alloc(64 * 64);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        pixels[y * 64 + x] = y < 32 ? (x % 8 === 0 ? 153 : 0) : y < 48 ? (x % 8 === 0 || y % 8 === 0 ? 0 : 255) : 102;
      }
    }
    const maskPath = join(root, 'mask-nearest.png');
    await sharp(pixels, { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(maskPath);
    const out = await pipeline.run(
      jobSpec(dirs.oracle, { role: 'edit', image: source, strength: 1, mask: { kind: 'image', path: maskPath, composite: false } }),
      recordingContext(),
    );
    // By hand: the latent mask is 1 in latent rows 0–3 and 0 in rows 4–7. The oracle lands on T where it is 1; where
    // it is 0 the last blend (σ_next = 0) puts back the source's clean latent, which decodes to the source colour.
    const fox = target('a red fox').slice(0, 3).map(pixel);
    for (let ly = 0; ly < 8; ly++) {
      for (let lx = 0; lx < 8; lx++) closeTo(rgbAt(out, 0, lx * 8 + 4, ly * 8 + 4), ly < 4 ? fox : [40, 40, 200]);
    }
  });

  it('changes the masked region to the target and keeps the rest of the source exactly', async () => {
    const source = await flatImage([40, 40, 200], 64, 64);
    const spec = jobSpec(dirs.oracle, {
      role: 'edit',
      prompt: 'a red fox',
      image: source,
      strength: 1,
      mask: { kind: 'region', region: { x: 0, y: 0, w: 0.5, h: 1 }, composite: true },
    });
    const out = await pipeline.run(spec, recordingContext());
    closeTo(rgbAt(out, 0, 2, 30), target('a red fox').slice(0, 3).map(pixel), 2);
    expect(rgbAt(out, 0, 62, 30)).toEqual([40, 40, 200]);
    // Across the seam the feathered composite blends: a pixel just left of the middle is between the two.
    const seam = rgbAt(out, 0, 31, 30);
    expect(seam).not.toEqual([40, 40, 200]);
    expect(seam).not.toEqual(rgbAt(out, 0, 2, 30));
  });

  it('keeps each candidate’s own source outside the mask when the candidates start from different images', async () => {
    const sources = [await flatImage([40, 40, 200]), await flatImage([200, 200, 40])];
    const spec = jobSpec(dirs.oracle, {
      role: 'edit',
      prompt: 'a red fox',
      image: sources[0],
      strength: 1,
      seeds: [1, 2],
      mask: { kind: 'region', region: { x: 0, y: 0, w: 0.5, h: 1 }, composite: true },
    });
    const out = await pipeline.run({ ...spec, candidates: spec.candidates.map((c, k) => ({ ...c, image: sources[k]! })) }, recordingContext());
    expect(rgbAt(out, 0, 62, 30)).toEqual([40, 40, 200]);
    expect(rgbAt(out, 1, 62, 30)).toEqual([200, 200, 40]);
    closeTo(rgbAt(out, 1, 2, 30), target('a red fox').slice(0, 3).map(pixel), 2);
  });

  it('remembers an inpainted output’s latents only when no composite changed its pixels afterwards', async () => {
    const source = await flatImage([40, 40, 200], 64, 64);
    const edit = (composite: boolean) =>
      pipeline.run(
        jobSpec(dirs.still, { role: 'edit', image: source, strength: 1, mask: { kind: 'region', region: { x: 0, y: 0, w: 0.5, h: 1 }, composite } }),
        recordingContext(),
      );
    for (const composite of [true, false]) {
      const path = await pngOf((await edit(composite)).candidates[0]!.data, `inpainted-${composite}.png`);
      // The composite's pixels are not what its latents decode to, so it is encoded like any other picture.
      expect(sameBytes(await stillRefine(pipeline, path), await stillRefine(withoutMemo, path))).toBe(composite);
    }
  });

  it('takes a mask image (white = change) and refuses one of the wrong size', async () => {
    const source = await flatImage([40, 40, 200], 64, 64);
    const maskPath = join(root, 'mask-right.png');
    const maskPixels = Buffer.alloc(64 * 64);
    for (let y = 0; y < 64; y++) maskPixels.fill(255, y * 64 + 32, y * 64 + 64);
    await sharp(maskPixels, { raw: { width: 64, height: 64, channels: 1 } }).png().toFile(maskPath);
    const out = await pipeline.run(
      jobSpec(dirs.oracle, { role: 'edit', image: source, strength: 1, mask: { kind: 'image', path: maskPath, composite: true } }),
      recordingContext(),
    );
    expect(rgbAt(out, 0, 1, 30)).toEqual([40, 40, 200]);
    closeTo(rgbAt(out, 0, 62, 30), target('a red fox').slice(0, 3).map(pixel), 2);

    const small = join(root, 'mask-small.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } }).png().toFile(small);
    const error = await pipeline
      .run(jobSpec(dirs.oracle, { role: 'edit', image: source, strength: 1, mask: { kind: 'image', path: small, composite: true } }), recordingContext())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineFailure);
    expect((error as EngineFailure).error.code).toBe('bad-mask');
  });
});

describe('batching, float16 and reproducibility', () => {
  const matrix = ['a red fox', 'a cat', '一个红色的圆形', 'blue'];
  const spec = (dir: string) => ({
    ...jobSpec(dir, { seeds: [1] }),
    candidates: matrix.map((prompt, i) => ({ prompt, noise: { seed: 100 + i } })),
  });

  it('gives the same pixels batched (float16, masked text) and one after another', async () => {
    const batched = await pipeline.run(spec(dirs.randomBatched), recordingContext());
    const sequential = await pipeline.run(spec(dirs.randomSequential), recordingContext());
    const grouped = await pipeline.run(spec(dirs.randomNoMask), recordingContext());
    expect(batched.candidates).toHaveLength(4);
    batched.candidates.forEach((c, i) => {
      expect(Buffer.from(c.data).equals(Buffer.from(sequential.candidates[i]!.data)), `candidate ${i}`).toBe(true);
      expect(Buffer.from(c.data).equals(Buffer.from(grouped.candidates[i]!.data)), `candidate ${i}`).toBe(true);
    });
    expect(Buffer.from(batched.candidates[0]!.data).equals(Buffer.from(batched.candidates[1]!.data))).toBe(false);
  });

  it('encodes prompts one by one for a text encoder with maxBatch 1, with the same result as a padded batch', async () => {
    // The batch-1 fixture is exported with a fixed batch of 1: onnxruntime refuses any other batch, so it passing
    // means every call had one prompt. Three prompts of different lengths and a negative one (CFG): four prompts.
    const guided = (dir: string) => ({
      ...jobSpec(dir, { negativePrompt: 'blue', guidance: 0.5 }),
      candidates: ['a red fox', 'a cat', '一个红色的圆形'].map((prompt, i) => ({ prompt, noise: { seed: 20 + i } })),
    });
    const oneByOne = await pipeline.run(guided(dirs.oracleBatchOne), recordingContext());
    const padded = await pipeline.run(guided(dirs.oracle), recordingContext());
    oneByOne.candidates.forEach((c, i) => expect(Buffer.from(c.data).equals(Buffer.from(padded.candidates[i]!.data)), `candidate ${i}`).toBe(true));

    // The same export without the manifest's maxBatch gets the padded batch, which it cannot take.
    const dir = writeFixtureModel(join(root, 'oracle-te-b1-undeclared'), { kind: 'oracle', textEncoderBatchOne: true });
    const fs = await import('node:fs');
    const manifest = JSON.parse(fs.readFileSync(join(dir, 'model.json'), 'utf8'));
    delete manifest.textEncoder.maxBatch;
    fs.writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
    await expect(pipeline.run(guided(dir), recordingContext())).rejects.toThrow(/input_ids|dimension/i);
  });

  it('reproduces a candidate from its seed whatever else is in the batch', async () => {
    const alone = await pipeline.run({ ...jobSpec(dirs.randomBatched), candidates: [{ prompt: 'a cat', noise: { seed: 101 } }] }, recordingContext());
    const inBatch = await pipeline.run(spec(dirs.randomBatched), recordingContext());
    expect(Buffer.from(alone.candidates[0]!.data).equals(Buffer.from(inBatch.candidates[1]!.data))).toBe(true);
  });
});

describe('model directory errors', () => {
  it('names the missing file', async () => {
    const dir = writeFixtureModel(join(root, 'broken-file'), { kind: 'oracle' });
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(dir, 'model.json'), 'utf8'))), vaeDecoder: { file: 'nope.onnx', input: 'latent_sample', output: 'sample' } }));
    const error = await pipeline.run(jobSpec(dir), recordingContext()).catch((e: unknown) => e);
    expect((error as EngineFailure).error.message).toMatch(/VAE decoder file nope\.onnx is missing/);
  });

  it('names the missing tensor', async () => {
    const dir = writeFixtureModel(join(root, 'broken-tensor'), { kind: 'oracle' });
    const fs = await import('node:fs');
    const manifest = JSON.parse(fs.readFileSync(join(dir, 'model.json'), 'utf8'));
    manifest.transformer.timestep = 'sigma';
    fs.writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
    const error = await pipeline.run(jobSpec(dir), recordingContext()).catch((e: unknown) => e);
    expect((error as EngineFailure).error).toMatchObject({ code: 'model-error' });
    expect((error as EngineFailure).error.message).toMatch(/The transformer \(.*transformer\.onnx\) has no input "sigma"; it has hidden_states, timestep/);
  });
});
