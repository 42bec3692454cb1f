// npm run bench:pipeline — where a job's time goes: text encoding, each denoising step, decoding, PNG encoding, and
// the non-model overhead per image (everything but session.run), for the fixture models and the shipped mini model;
// then the mini model end to end through the real runtime (worker, PNG, moderation). Prints one JSON object.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../src/config/load.ts';
import { withTextChunks } from '../src/engine/image/png-text.ts';
import { MINI_MODEL_DIR, modelInfo } from '../src/engine/model/model-info.ts';
import { graphRunStats } from '../src/engine/onnx/session.ts';
import { createPipeline } from '../src/engine/pipelines/z-image/index.ts';
import type { JobSpec } from '../src/engine/request.ts';
import { createLogger } from '../src/logging.ts';
import { startRuntime } from '../src/runtime.ts';
import { tempDir } from '../test/support/fakes.ts';
import { writeFixtureModel } from '../test/support/fixtures/models.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number): number => Number(x.toFixed(2));

const pipeline = await createPipeline({
  device: { name: 'cpu0', provider: 'cpu', threads: 0, deviceId: 0 },
  options: { preload: [], maxLoaded: 4 },
  log: () => undefined,
});
const context = { cancelled: () => false, onProgress: () => undefined };

// Each model at its own sampling defaults (model.json), as a draft runs it: the mini model with CFG (guidance 1).
function spec(dir: string, size: number, count: number, seed: number): JobSpec {
  const info = modelInfo(dir);
  return {
    role: 'draft', modelDir: dir, modelName: info.name, width: size, height: size, steps: info.defaults.steps, guidance: info.defaults.guidance, shift: info.shift,
    strength: 1, inversion: 0, cfgTruncation: 1, cfgNormalization: 0, negativePrompt: '', userNegativePrompt: null, seed, chaos: 100,
    style: null, userPrompt: 'a red circle on a blue background, top left',
    candidates: Array.from({ length: count }, (_, i) => ({ prompt: 'a red circle on a blue background, top left', noise: { seed: seed + i } })),
    image: null, mask: null,
  };
}

async function measure(dir: string, size: number, count: number): Promise<Record<string, number>> {
  const rows: Record<string, number>[] = [];
  for (let run = -1; run < RUNS; run++) {
    const before = { ...graphRunStats };
    const started = performance.now();
    const output = await pipeline.run(spec(dir, size, count, 100 + run), context);
    const pipelineMs = performance.now() - started;
    const modelMs = graphRunStats.ms - before.ms;
    const pngStart = performance.now();
    for (const c of output.candidates) {
      const png = await sharp(c.data, { raw: { width: c.width, height: c.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
      withTextChunks(png, { parameters: c.prompt });
    }
    const pngMs = performance.now() - pngStart;
    if (run < 0) continue; // warm-up
    rows.push({
      textEncodeMs: output.timings.textEncodeMs,
      stepMs: median([...output.timings.stepMs]),
      decodeMs: output.timings.decodeMs,
      pngEncodeMsPerImage: pngMs / count,
      pipelineMs,
      sessionRunMs: modelMs,
      nonModelOverheadMsPerImage: (pipelineMs - modelMs + pngMs) / count,
    });
  }
  const keys = Object.keys(rows[0]!);
  return Object.fromEntries(keys.map((k) => [k, round(median(rows.map((r) => r[k]!)))]));
}

const fixtureDir = writeFixtureModel(join(tempDir('zimage-bench-'), 'oracle'), { kind: 'oracle', maxBatch: 4, textMask: true });
const randomDir = writeFixtureModel(join(tempDir('zimage-bench-'), 'random-fp16'), { kind: 'random', float16: true, maxBatch: 4, textMask: true });
const results: Record<string, unknown> = { benchmark: 'pipeline', node: process.version, runs: RUNS, cpus: (await import('node:os')).availableParallelism() };
results.fixtureOracle256 = { count1: await measure(fixtureDir, 256, 1), count4: await measure(fixtureDir, 256, 4) };
results.fixtureRandomFp16_256 = { count1: await measure(randomDir, 256, 1), count4: await measure(randomDir, 256, 4) };
const hasMini = existsSync(join(MINI_MODEL_DIR, 'model.json'));
if (hasMini) results.mini256 = { count1: await measure(MINI_MODEL_DIR, 256, 1), count4: await measure(MINI_MODEL_DIR, 256, 4) };
await pipeline.dispose();

if (hasMini) {
  // End to end, as a user waits for it: submit → worker → PNG → nsfwjs → done, through the real runtime.
  const root = new URL('..', import.meta.url).pathname;
  const config = loadConfig({ root, env: {}, overrideFile: null, overrides: { log: { level: 'silent' }, dataDir: tempDir('zimage-bench-data-'), queue: { maxWaitingPerUser: 100 } } });
  const runtime = await startRuntime(config, createLogger('silent'));
  const endToEnd = async (count: number): Promise<Record<string, number>> => {
    const walls: number[] = [];
    for (let run = -1; run < RUNS; run++) {
      const t0 = performance.now();
      const submitted = await runtime.engine.submit({ role: 'draft', owner: { platform: 'bench', userId: 'b' }, prompt: 'a red circle on a blue background, top left', count, seed: run + 10 });
      if (!submitted.ok) throw new Error(submitted.error.message);
      const end = await submitted.value.settled;
      if (end.type !== 'done') throw new Error(end.type);
      if (run >= 0) walls.push(performance.now() - t0);
    }
    return { medianMs: round(median(walls)), minMs: round(Math.min(...walls)), maxMs: round(Math.max(...walls)) };
  };
  results.miniEndToEnd = {
    count1: await endToEnd(1),
    count4: await endToEnd(4),
    goals: { count4UnderMs: 2000, count1UnderMs: 700 },
  };
  await runtime.close();
}
console.log(JSON.stringify(results, null, 2));
