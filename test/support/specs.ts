import type { JobSpec } from '../../src/engine/request.ts';
import type { PipelineContext, RgbPixels } from '../../src/engine/pipeline.ts';

/** A JobSpec for direct pipeline tests, with the draft defaults filled in. */
export function jobSpec(modelDir: string, fields: Partial<JobSpec> & { prompt?: string; seeds?: number[] } = {}): JobSpec {
  const { prompt = 'a red fox', seeds = [1], ...rest } = fields;
  return {
    role: 'draft',
    modelDir,
    modelName: 'fixture',
    width: 64,
    height: 64,
    steps: 8,
    guidance: 0,
    shift: 3,
    strength: 1,
    inversion: 0,
    cfgTruncation: 1,
    cfgNormalization: 0,
    negativePrompt: '',
    userNegativePrompt: null,
    seed: seeds[0]!,
    chaos: 100,
    style: null,
    userPrompt: prompt,
    candidates: seeds.map((seed) => ({ prompt, noise: { seed } })),
    image: null,
    mask: null,
    ...rest,
  };
}

export function recordingContext(cancelAfter = Infinity): PipelineContext & { steps: Array<[number, number]>; previews: RgbPixels[] } {
  const steps: Array<[number, number]> = [];
  const previews: RgbPixels[] = [];
  return {
    steps,
    previews,
    cancelled: () => steps.length >= cancelAfter,
    onProgress: (step, total, preview) => {
      steps.push([step, total]);
      if (preview) previews.push(preview);
    },
  };
}
