// The shipped default model, run through the product's own pipeline code: it loads, draws what an English and a
// Chinese caption ask for (judged from the pixels by the same judge as `npm run eval:mini`), is reproducible per
// seed, and refines an image through its VAE encoder without losing the composition. The statistical quality over
// the held-out captions is measured by `npm run eval:mini`; these fixed cases guard the exported files themselves.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINI_MODEL_DIR, modelInfo } from '../../src/engine/model/model-info.ts';
import type { Pipeline } from '../../src/engine/pipeline.ts';
import { createPipeline } from '../../src/engine/pipelines/z-image/index.ts';
import { moderationSchema } from '../../src/moderation/config.ts';
import { NsfwClassifier } from '../../src/moderation/nsfw-classifier.ts';
import { judge, type JudgeSpec } from '../../tools/mini/judge.ts';
import { jobSpec, recordingContext } from '../support/specs.ts';

const heldout = JSON.parse(readFileSync(new URL('../../tools/mini/heldout.json', import.meta.url), 'utf8')) as {
  palette: JudgeSpec['palette'];
  colors: string[];
  positions: string[];
  judge: { border: number; threshold: number };
};
const spec: JudgeSpec = { ...heldout, border: heldout.judge.border, threshold: heldout.judge.threshold };
const info = modelInfo(MINI_MODEL_DIR);
const { nativeWidth: width, nativeHeight: height } = info.size;

const cases = [
  { prompt: 'a red circle on a blue background, top left', seed: 1, background: 'blue', color: 'red', position: 'top left' },
  { prompt: '蓝色背景上的一个红色圆形,在左上角', seed: 1, background: 'blue', color: 'red', position: 'top left' },
  { prompt: 'a large yellow square in the center on a black background', seed: 1, background: 'black', color: 'yellow', position: 'center' },
  // Seeds 0–15 draw the first three right every time and this one 13 times in 16 (seed 1 is a miss); `npm run eval:mini`
  // has the rates over the held-out captions.
  { prompt: '白色背景,右下角有一个绿色的星星', seed: 2, background: 'white', color: 'green', position: 'bottom right' },
] as const;

let pipeline: Pipeline;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zimage-mini-'));
  pipeline = await createPipeline({
    device: { name: 'cpu0', provider: 'cpu', threads: 0, deviceId: 0 },
    // No latent memo: the refine below must go through the exported VAE encoder, not the draft's remembered latents.
    options: { preload: [MINI_MODEL_DIR], maxLoaded: 1, latentMemoMiB: 0 },
    log: () => undefined,
  });
});

afterAll(async () => {
  await pipeline?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

// The model's own sampling defaults (model.json `defaults`: 8 steps, guidance 1), as a draft runs it.
const sampling = { steps: info.defaults.steps, guidance: info.defaults.guidance, shift: info.shift };
const draft = (prompt: string, seeds: number[]) =>
  pipeline.run(jobSpec(MINI_MODEL_DIR, { prompt, seeds, width, height, ...sampling, modelName: info.name }), recordingContext());

describe('models/mini', () => {
  it('is the 256-pixel default the manifest promises', () => {
    expect(info.name).toBe('zimage-mini');
    expect([width, height]).toEqual([256, 256]);
  });

  it.each(cases)('draws "$prompt"', async ({ prompt, seed, ...expected }) => {
    const [candidate] = (await draft(prompt, [seed])).candidates;
    expect(candidate!.width).toBe(width);
    const seen = judge(spec, candidate!.data, width, height);
    expect({ background: seen.background, color: seen.color, position: seen.position }).toEqual(expected);
  });

  it('gives the same pixels for the same seed and another picture for another seed', async () => {
    const prompt = cases[0].prompt;
    const [a, b] = [(await draft(prompt, [7])).candidates[0]!, (await draft(prompt, [7])).candidates[0]!];
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    const c = (await draft(prompt, [8])).candidates[0]!;
    const meanDiff = a.data.reduce((s, v, i) => s + Math.abs(v - c.data[i]!), 0) / a.data.length;
    expect(meanDiff).toBeGreaterThan(1);
  });

  it('draws what the real content filter passes', async () => {
    const classifier = await NsfwClassifier.start(moderationSchema.parse({}), () => undefined);
    try {
      const drawn = await Promise.all(cases.map(async ({ prompt }) => (await draft(prompt, [3, 4])).candidates));
      const verdicts = await Promise.all(drawn.flat().map((c) => classifier.judge({ width: c.width, height: c.height, data: c.data })));
      expect(verdicts.map((v) => (v.flagged ? v.reason : 'passed'))).toEqual(verdicts.map(() => 'passed'));
    } finally {
      await classifier.close();
    }
  });

  it('refines a drawn image through the VAE encoder and keeps its composition', async () => {
    const { prompt, seed, ...expected } = cases[0];
    const source = (await draft(prompt, [seed])).candidates[0]!;
    const path = join(dir, 'source.png');
    await sharp(Buffer.from(source.data), { raw: { width, height, channels: 3 } }).png().toFile(path);
    const context = recordingContext();
    const refined = await pipeline.run(
      jobSpec(MINI_MODEL_DIR, { role: 'refine', prompt, seeds: [seed + 1], width, height, ...sampling, strength: 0.5, image: path }),
      context,
    );
    expect(context.steps.length).toBeLessThan(8);
    const seen = judge(spec, refined.candidates[0]!.data, width, height);
    expect({ background: seen.background, color: seen.color, position: seen.position }).toEqual(expected);
  });
});
