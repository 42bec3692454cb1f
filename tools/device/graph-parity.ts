// Which graph of a model directory a provider gets wrong: each graph the manifest names, run on the CPU and on the
// given provider (with onnxruntime's graph optimisations on and off) over the same deterministic inputs, built from
// the manifest's tensor names and sizes (2 prompts of 20 and 57 tokens, 16×16 latents). Prints one JSON object: per
// graph and setting, the largest and mean absolute difference from the CPU's output, and the largest relative to the
// CPU output's largest magnitude. float32 graph inputs only (models/mini; the webnn fp16 export is not covered).
//   node --import tsx tools/device/graph-parity.ts [--provider webgpu] [--model models/mini]
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadModelDirectory } from '../../src/engine/model/manifest.ts';
import { difference, noise } from './arrays.ts';

const { values: args } = parseArgs({ options: { provider: { type: 'string', default: 'webgpu' }, model: { type: 'string', default: 'models/mini' } } });
const model = loadModelDirectory(args.model);
const { manifest } = model;

const B = 2;
const SEQ = Math.min(96, manifest.tokenizer.maxLength);
const valid = [20, 57].map((n) => Math.min(n, SEQ)); // tokens per row; the rest is padding
const LAT = 16;
const C = manifest.latent.channels;
const hidden = manifest.textEncoder.hiddenSize;
const ids = new BigInt64Array(B * SEQ).map((_, i) => BigInt((i % SEQ) < valid[Math.floor(i / SEQ)]! ? 5 + ((i * 7) % 300) : 0));
const mask = new BigInt64Array(B * SEQ).map((_, i) => ((i % SEQ) < valid[Math.floor(i / SEQ)]! ? 1n : 0n));
const latentDims = manifest.transformer.latentRank === 5 ? [B, C, 1, LAT, LAT] : [B, C, LAT, LAT];
const { textEncoder: te, transformer: tr, vaeDecoder: dec, vaeEncoder: enc } = manifest;

const graphs: [string, string | undefined, Record<string, ort.Tensor>][] = [
  ['text_encoder', model.files.textEncoder, { [te.inputIds]: new ort.Tensor('int64', ids, [B, SEQ]), [te.attentionMask]: new ort.Tensor('int64', mask, [B, SEQ]) }],
  [
    'transformer',
    model.files.transformer,
    {
      [tr.latents]: new ort.Tensor('float32', noise(B * C * LAT * LAT, 1), latentDims),
      [tr.timestep]: new ort.Tensor('float32', Float32Array.from([0.3, 0.8]), [B]),
      [tr.textFeatures]: new ort.Tensor('float32', noise(B * SEQ * hidden, 2), [B, SEQ, hidden]),
      ...(tr.textMask ? { [tr.textMask]: new ort.Tensor('int64', mask, [B, SEQ]) } : {}),
    },
  ],
  ['vae_decoder', model.files.vaeDecoder, { [dec.input]: new ort.Tensor('float32', noise(B * C * LAT * LAT, 3), [B, C, LAT, LAT]) }],
  ...(enc && model.files.vaeEncoder
    ? [['vae_encoder', model.files.vaeEncoder, { [enc.input]: new ort.Tensor('float32', noise(B * 3 * (LAT * enc.downscale) ** 2, 4), [B, 3, LAT * enc.downscale, LAT * enc.downscale]) }] as [string, string, Record<string, ort.Tensor>]]
    : []),
];

async function run(file: string, feeds: Record<string, ort.Tensor>, provider: string, level: 'all' | 'disabled'): Promise<{ out: Float32Array; ms: number } | { error: string }> {
  try {
    const session = await ort.InferenceSession.create(file, { executionProviders: [provider], graphOptimizationLevel: level, logSeverityLevel: 3 });
    await session.run(feeds); // warm-up (shader compilation)
    const started = performance.now();
    const result = await session.run(feeds);
    const ms = performance.now() - started;
    const out = result[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    return { out: Float32Array.from(out), ms };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! };
  }
}

const report: Record<string, unknown> = { check: 'graph-parity', provider: args.provider, model: model.dir };
for (const [name, file, feeds] of graphs) {
  if (!file) continue;
  const cpu = await run(file, feeds, 'cpu', 'all');
  if ('error' in cpu) {
    report[name] = { cpuError: cpu.error };
    continue;
  }
  const rows: Record<string, unknown> = { cpuMs: Math.round(cpu.ms * 100) / 100 };
  for (const level of ['all', 'disabled'] as const) {
    const other = await run(file, feeds, args.provider, level);
    if ('error' in other) {
      rows[level] = { error: other.error };
      continue;
    }
    const { maxAbs, meanAbs, relMax, referenceMaxMagnitude } = difference(cpu.out, other.out);
    rows.cpuMaxMagnitude = referenceMaxMagnitude;
    rows[level] = { ms: Math.round(other.ms * 100) / 100, maxAbs, meanAbs, relMax, nan: other.out.some(Number.isNaN) };
  }
  report[name] = rows;
}
console.log(JSON.stringify(report, null, 2));
