// npm run bench:moderation [-- --all] [-- --compare] [-- --runs 30] — the NSFW classifier as the engine uses it: the
// ONNX graph on onnxruntime (--compare adds nsfwjs' own execution of the same model on tfjs wasm, the reference, in
// the same thread on the same path, in the same run): start-up (thread + runtime + model load), then the median time of one judge() per 256² and per 1024² image,
// resize included, one image at a time (the sizes alternating) after a warm-up; plus the resize alone and the main
// thread's event-loop delay while judging. Prints one JSON object on stdout; the classifier's log goes to stderr.
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { moderationSchema, NSFW_INPUT_SIZE, NSFW_MODELS, type NsfwModelName } from '../src/moderation/config.ts';
import { resizeForModel } from '../src/moderation/model-input.ts';
import { NsfwClassifier } from '../src/moderation/nsfw-classifier.ts';
import type { ModerationLog } from '../src/moderation/nsfw-thread.ts';
import type { RgbImage } from '../src/moderation/verdict.ts';

/** The classifier thread's runner modules: the product's (the classifier's default) and nsfwjs' own, for --compare. */
const RUNNERS: Readonly<Record<string, URL | undefined>> = {
  onnx: undefined,
  nsfwjs: new URL('../test/support/nsfwjs-reference.ts', import.meta.url),
};

const GOAL_MS = 60;

const { values: args } = parseArgs({
  options: {
    all: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);

/** A busy, photo-like test card: gradients with a pattern, so the resize has real work. */
function testImage(side: number): RgbImage {
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      data[i] = (x * 255) / side;
      data[i + 1] = (y * 255) / side;
      data[i + 2] = ((x >> 3) ^ (y >> 3)) & 1 ? 200 : 60;
    }
  }
  return { width: side, height: side, data };
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

function summary(times: number[]): Record<string, number> {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { medianMs: round(at(0.5)), p90Ms: round(at(0.9)), minMs: round(sorted[0]!), maxMs: round(sorted[sorted.length - 1]!) };
}

async function timed(count: number, once: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  return times;
}

const log: ModerationLog = (level, message, detail) => {
  process.stderr.write(`${JSON.stringify({ level, message, ...detail })}\n`);
};

const images = { '256': testImage(256), '1024': testImage(1024) };

async function measure(model: NsfwModelName, runner: URL | undefined): Promise<Record<string, unknown>> {
  const config = moderationSchema.parse({ model, timeoutMs: 120_000 });
  const started = performance.now();
  const classifier = await NsfwClassifier.start(config, log, runner ? { runner } : {});
  const startMs = performance.now() - started;
  const classify: Record<string, unknown> = {};
  const resizeOnly: Record<string, unknown> = {};
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let flagged = 0;
  try {
    const sizes = Object.entries(images);
    for (const [, image] of sizes) await timed(warmup, () => classifier.judge(image));
    // The sizes take turns, so a change in the machine's load falls on both alike.
    const times = new Map<string, number[]>(sizes.map(([size]) => [size, []]));
    delay.enable();
    for (let i = 0; i < runs; i++) {
      for (const [size, image] of sizes) {
        const started = performance.now();
        const verdict = await classifier.judge(image);
        times.get(size)!.push(performance.now() - started);
        if (verdict.flagged) flagged += 1;
      }
    }
    delay.disable();
    for (const [size, image] of sizes) {
      classify[size] = summary(times.get(size)!);
      resizeOnly[size] = summary(await timed(runs, () => resizeForModel(image, NSFW_INPUT_SIZE[model])));
    }
  } finally {
    await classifier.close();
  }
  const { info } = classifier;
  return {
    model,
    execution: info.execution,
    backend: info.backend,
    inputSize: info.inputSize,
    startMs: Math.round(startMs),
    modelLoadMs: info.loadMs,
    classifyIncludingResize: classify,
    resizeOnly,
    mainThreadEventLoopDelayMs: { p99: round(delay.percentile(99) / 1e6), max: round(delay.max / 1e6) },
    flaggedTestImages: flagged,
  };
}

const models: readonly NsfwModelName[] = args.all ? NSFW_MODELS : [moderationSchema.parse({}).model];
const runners = args.compare ? Object.values(RUNNERS) : [RUNNERS.onnx];
const results: Record<string, unknown>[] = [];
for (const model of models) for (const runner of runners) results.push(await measure(model, runner));

type Medians = Record<string, { medianMs: number }>;
/** Median ms per image of each execution side by side, per model and size, and each one's factor over the fastest. */
function comparison(): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  for (const model of models) {
    const rows = results.filter((r) => r.model === model);
    const bySize: Record<string, unknown> = {};
    for (const size of Object.keys(images)) {
      const medians = Object.fromEntries(rows.map((r) => [r.execution as string, (r.classifyIncludingResize as Medians)[size]!.medianMs]));
      const fastest = Math.min(...Object.values(medians));
      bySize[size] = { medianMs: medians, timesFastest: Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, Math.round((v / fastest) * 100) / 100])) };
    }
    table[model] = { perImage: bySize, modelLoadMs: Object.fromEntries(rows.map((r) => [r.execution as string, r.modelLoadMs])) };
  }
  return table;
}

const configured = results.find((r) => r.model === 'MobileNetV2' && r.execution === 'onnx');
const median1024 = (configured?.classifyIncludingResize as Medians | undefined)?.['1024']?.medianMs;
const median256 = (configured?.classifyIncludingResize as Medians | undefined)?.['256']?.medianMs;

process.stdout.write(
  `${JSON.stringify({
    benchmark: 'moderation',
    node: process.version,
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0]!),
    runs,
    warmup,
    goal: { model: 'MobileNetV2', medianMsPerImage: GOAL_MS, met: median256 !== undefined && median1024 !== undefined ? Math.max(median256, median1024) <= GOAL_MS : null },
    ...(args.compare ? { comparison: comparison() } : {}),
    results,
  })}\n`,
);
