// Whether a model's text encoder gives a prompt the same features in a padded batch as alone: the product's own
// prompt encoding (template, tokenizer, padding, padded rows dropped) over prompts of very different lengths (the
// empty negative prompt included), once as one padded batch and once one prompt per call, on each named provider.
// Prints one JSON object: per provider and prompt the largest and mean absolute difference and the largest relative
// to the one-by-one features' magnitude, and whether every prompt is within --tolerance. A manifest that says
// textEncoder.maxBatch: 1 because its export's padded batches were never checked (the webnn q4f16 text encoder's
// fused attention) can drop it once this says "equivalent" on the providers it runs on.
//   node --import tsx tools/device/text-encoder-batch.ts [--model DIR] [--providers cpu,webgpu] [--tolerance 0.01]
// On a lent GPU machine without Node it runs as one bundle (tools/device/README.md says how).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceConfig } from '../../src/config/schema.ts';
import { loadModelDirectory, type ModelDirectory } from '../../src/engine/model/manifest.ts';
import { PromptEncoder, type TextFeatures } from '../../src/engine/pipelines/z-image/text-encoder.ts';
import { difference } from './arrays.ts';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/mini' },
    providers: { type: 'string', default: 'cpu' },
    tolerance: { type: 'string', default: '0.01' },
  },
});
const tolerance = Number(args.tolerance);
const PROMPTS = [
  '',
  'a red circle',
  '蓝色背景上的黄色星星，右下角',
  'a small green star in the bottom right corner on a black background',
  'A weathered lighthouse on a basalt cliff at dusk, waves breaking below, warm light in the lantern room, gulls, ' +
    'long exposure, 35 mm photograph, muted teal and amber palette, fine film grain, wide shot from the beach',
];

/** The same model directory with textEncoder.maxBatch replaced: undefined = one padded batch, 1 = one by one. */
function withMaxBatch(model: ModelDirectory, maxBatch: number | undefined): ModelDirectory {
  return { ...model, manifest: { ...model.manifest, textEncoder: { ...model.manifest.textEncoder, maxBatch } } };
}

interface PromptRow {
  readonly prompt: string;
  readonly tokens: number;
  readonly maxAbs: number;
  readonly meanAbs: number;
  readonly relMax: number;
  readonly nan: boolean;
}

type ProviderReport =
  | { readonly requested: string; readonly used: string; readonly warnings: string[]; readonly error: string }
  | {
      readonly requested: string;
      readonly used: string;
      readonly warnings: string[];
      readonly batchMs: number;
      readonly oneByOneMs: number;
      readonly prompts: PromptRow[];
      readonly worstRelMax: number;
      readonly equivalent: boolean;
    };

const round = (x: number): number => Number(x.toPrecision(3));

async function check(model: ModelDirectory, provider: DeviceConfig['provider']): Promise<ProviderReport> {
  const warnings: string[] = [];
  const device: DeviceConfig = { name: 'check', provider, threads: 0, deviceId: 0 };
  const log = (level: string, message: string): void => void (level !== 'info' && warnings.push(message));
  const batched = await PromptEncoder.open(withMaxBatch(model, undefined), device, log);
  const single = await PromptEncoder.open(withMaxBatch(model, 1), device, log);
  const used = batched.provider;
  try {
    // Warm-up (shader compilation), then one timed run of each.
    await batched.encode(PROMPTS);
    await single.encode(PROMPTS.slice(0, 1));
    let started = performance.now();
    const padded = await batched.encode(PROMPTS);
    const batchMs = performance.now() - started;
    started = performance.now();
    const alone: TextFeatures[] = [];
    for (const prompt of PROMPTS) alone.push(...(await single.encode([prompt])).features);
    const oneByOneMs = performance.now() - started;
    const prompts = PROMPTS.map((prompt, i): PromptRow => {
      const reference = alone[i]!.features;
      const other = padded.features[i]!.features;
      const d = difference(reference, other);
      return {
        prompt: prompt.length > 40 ? `${prompt.slice(0, 40)}…` : prompt,
        tokens: padded.tokenized[i]!.ids.length,
        maxAbs: round(d.maxAbs),
        meanAbs: round(d.meanAbs),
        relMax: round(d.relMax),
        nan: other.some(Number.isNaN) || reference.some(Number.isNaN),
      };
    });
    const worstRelMax = Math.max(...prompts.map((p) => (Number.isNaN(p.relMax) ? Infinity : p.relMax)));
    const equivalent = prompts.every((p) => !p.nan) && worstRelMax <= tolerance;
    return { requested: provider, used, warnings, batchMs: round(batchMs), oneByOneMs: round(oneByOneMs), prompts, worstRelMax, equivalent };
  } catch (error) {
    // An export that cannot take a batch at all (a fixed batch of 1) says so here.
    return { requested: provider, used, warnings, error: (error as Error).message.split('\n')[0]! };
  } finally {
    await batched.dispose();
    await single.dispose();
  }
}

const model = loadModelDirectory(resolve(args.model));
const providers = args.providers.split(',') as DeviceConfig['provider'][];
const results: ProviderReport[] = [];
for (const provider of providers) results.push(await check(model, provider));
const settled = results.every((r) => 'equivalent' in r && r.equivalent && r.used === r.requested);
console.log(
  JSON.stringify(
    {
      check: 'text-encoder-batch',
      model: model.dir,
      name: model.manifest.name,
      manifestMaxBatch: model.manifest.textEncoder.maxBatch ?? null,
      tolerance,
      results,
      verdict: settled
        ? `padded batches match one-by-one encoding on ${providers.join(', ')}: textEncoder.maxBatch: 1 is not needed there`
        : 'keep textEncoder.maxBatch: 1 (a provider differs beyond the tolerance, failed, or fell back to another)',
    },
    null,
    2,
  ),
);
