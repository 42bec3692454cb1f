// The GPU path on a machine with a GPU: a model directory (models/mini by default) through the product's Z-Image
// pipeline on each named execution provider, same seeds, after a warm-up. Prints one JSON object: the provider each
// run really used (a provider that cannot load falls back to the CPU with a logged warning), the warnings, the median
// stage timings for 1 and 4 images, and how far each provider's pixels are from the first one's.
//   node --import tsx tools/device/gpu-check.ts [--providers cpu,webgpu] [--model models/mini] [--runs 5]
// On a lent GPU machine without Node it runs as one bundle (tools/device/README.md says how).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceConfig } from '../../src/config/schema.ts';
import { modelInfo } from '../../src/engine/model/model-info.ts';
import type { PipelineOutput } from '../../src/engine/pipeline.ts';
import { createPipeline } from '../../src/engine/pipelines/z-image/index.ts';
import { difference } from './arrays.ts';
import type { JobSpec } from '../../src/engine/request.ts';

const { values: args } = parseArgs({
  options: {
    providers: { type: 'string', default: 'cpu,webgpu' },
    model: { type: 'string', default: 'models/mini' },
    runs: { type: 'string', default: '5' },
  },
});
const providers = args.providers.split(',') as DeviceConfig['provider'][];
const modelDir = resolve(args.model);
const runs = Number(args.runs);
const PROMPTS = ['a red circle on a blue background, top left', '蓝色背景上的黄色星星，右下角', 'a green square on a white background', 'two purple triangles on an orange background'];

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Math.round(x * 100) / 100;

function spec(count: number, seed: number): JobSpec {
  const info = modelInfo(modelDir);
  return {
    role: 'draft', modelDir, modelName: info.name, width: 256, height: 256, steps: 8, guidance: 0, shift: info.shift,
    strength: 1, inversion: 0, cfgTruncation: 1, cfgNormalization: 0, negativePrompt: '', userNegativePrompt: null, seed, chaos: 100,
    style: null, userPrompt: PROMPTS[0]!,
    candidates: Array.from({ length: count }, (_, i) => ({ prompt: PROMPTS[i % PROMPTS.length]!, noise: { seed: seed + i } })),
    image: null, mask: null,
  };
}

interface ProviderResult {
  readonly requested: string;
  readonly used: string;
  readonly warnings: string[];
  readonly timings: Record<string, Record<string, number>>;
  readonly images: PipelineOutput['candidates'];
}

async function measure(provider: DeviceConfig['provider']): Promise<ProviderResult> {
  const warnings: string[] = [];
  const pipeline = await createPipeline({
    device: { name: `${provider}0`, provider, threads: 0, deviceId: 0 },
    options: { preload: [], maxLoaded: 1 },
    log: (level, message, detail) => {
      if (level !== 'info') warnings.push(`${message}${detail?.error ? `: ${String(detail.error)}` : ''}`);
    },
  });
  const context = { cancelled: () => false, onProgress: () => undefined };
  const timings: Record<string, Record<string, number>> = {};
  let used = 'none';
  let images: PipelineOutput['candidates'] = [];
  try {
    for (const count of [1, 4]) {
      const rows: Record<string, number>[] = [];
      for (let run = -1; run < runs; run++) {
        const started = performance.now();
        const output = await pipeline.run(spec(count, 1000), context);
        const wallMs = performance.now() - started;
        used = output.provider;
        if (count === 4 && run === -1) images = output.candidates;
        if (run < 0) continue; // warm-up: session creation, shader compilation
        const t = output.timings;
        rows.push({ wallMs, textEncodeMs: t.textEncodeMs, stepMs: median(t.stepMs), denoiseMs: t.denoiseMs, decodeMs: t.decodeMs });
      }
      timings[`count${count}`] = Object.fromEntries(Object.keys(rows[0]!).map((k) => [`${k}`, round(median(rows.map((r) => r[k]!)))]));
    }
  } finally {
    await pipeline.dispose();
  }
  return { requested: provider, used, warnings: [...new Set(warnings)], timings, images };
}

/** Per-channel differences between two providers' renderings of the same seeds. */
function pixelDifference(a: PipelineOutput['candidates'], b: PipelineOutput['candidates']): Record<string, number> {
  const pixels = (images: PipelineOutput['candidates']): Uint8Array => Buffer.concat(images.map((image) => image.data));
  const d = difference(pixels(a), pixels(b), 8);
  return { maxAbs: d.maxAbs, meanAbs: round(d.meanAbs), fractionOver8: round(d.fractionOver) };
}

const results: ProviderResult[] = [];
for (const provider of providers) results.push(await measure(provider));
const [base] = results;
console.log(
  JSON.stringify(
    {
      check: 'gpu',
      node: process.version,
      cpus: availableParallelism(),
      model: modelDir,
      runs,
      results: results.map(({ images, ...rest }, i) => ({ ...rest, pixelsVsFirst: i > 0 && base ? pixelDifference(base.images, images) : null })),
    },
    null,
    2,
  ),
);
