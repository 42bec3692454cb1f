// npm run eval:mini — the shipped mini model judged from its own pixels on held-out captions, through the product's
// pipeline code (src/engine/pipelines/z-image) at 8 steps without CFG. Prints one JSON object.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MINI_MODEL_DIR, modelInfo } from '../../src/engine/model/model-info.ts';
import { createPipeline } from '../../src/engine/pipelines/z-image/index.ts';
import type { JobSpec } from '../../src/engine/request.ts';
import { judge, type Judged, type JudgeSpec } from './judge.ts';

interface Item {
  readonly caption: string;
  readonly lang: string;
  readonly shape: string;
  readonly color: string;
  readonly background: string;
  readonly position: string;
  readonly mode: string;
}

const heldoutFile = fileURLToPath(new URL('./heldout.json', import.meta.url));
const data = JSON.parse(readFileSync(heldoutFile, 'utf8')) as {
  palette: JudgeSpec['palette'];
  colors: string[];
  positions: string[];
  judge: { border: number; threshold: number };
  heldout: Item[];
  train_dist: Item[];
};
const spec: JudgeSpec = { palette: data.palette, colors: data.colors, positions: data.positions, border: data.judge.border, threshold: data.judge.threshold };
const modelDir = process.env.MODEL_DIR ?? MINI_MODEL_DIR;
const info = modelInfo(modelDir);
const pipeline = await createPipeline({
  device: { name: 'cpu0', provider: 'cpu', threads: 0, deviceId: 0 },
  options: { preload: [modelDir], maxLoaded: 1 },
  log: () => undefined,
});
const context = { cancelled: () => false, onProgress: () => undefined };

function jobFor(items: readonly { caption: string; seed: number }[]): JobSpec {
  return {
    role: 'draft',
    modelDir,
    modelName: info.name,
    width: info.size.nativeWidth,
    height: info.size.nativeHeight,
    steps: 8,
    guidance: 0,
    shift: info.shift,
    strength: 1,
    cfgTruncation: 1,
    cfgNormalization: 0,
    negativePrompt: '',
    userNegativePrompt: null,
    seed: items[0]!.seed,
    chaos: 100,
    style: null,
    userPrompt: items[0]!.caption,
    candidates: items.map((i) => ({ prompt: i.caption, noise: { seed: i.seed } })),
    image: null,
    mask: null,
  };
}

async function render(items: readonly { caption: string; seed: number }[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let start = 0; start < items.length; start += 8) {
    const result = await pipeline.run(jobFor(items.slice(start, start + 8)), context);
    out.push(...result.candidates.map((c) => c.data));
  }
  return out;
}

function score(items: readonly Item[], judged: readonly Judged[]): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {};
  for (const lang of [...new Set(items.map((i) => i.lang))].sort().concat('all')) {
    const pairs = items.map((item, k) => [item, judged[k]!] as const).filter(([item]) => lang === 'all' || item.lang === lang);
    const pct = (ok: (item: Item, j: Judged) => boolean): number => Number(((100 * pairs.filter(([i, j]) => ok(i, j)).length) / pairs.length).toFixed(1));
    result[lang] = {
      n: pairs.length,
      background: pct((i, j) => j.background === i.background),
      color: pct((i, j) => j.color === i.color),
      position: pct((i, j) => j.position === i.position),
      allThree: pct((i, j) => j.background === i.background && j.color === i.color && j.position === i.position),
      shape: pct((i, j) => j.shape === i.shape),
    };
  }
  return result;
}

const started = performance.now();
const { nativeWidth: width, nativeHeight: height } = info.size;
const judgeAll = async (items: readonly Item[]): Promise<Judged[]> =>
  (await render(items.map((item, seed) => ({ caption: item.caption, seed })))).map((rgb) => judge(spec, rgb, width, height));
const heldout = score(data.heldout, await judgeAll(data.heldout));
const trainDist = score(data.train_dist, await judgeAll(data.train_dist));

// Same seed → the same bytes; another seed → another picture (layout within what the caption allows).
const probe = data.heldout.slice(0, 16);
const once = await render(probe.map((item, seed) => ({ caption: item.caption, seed })));
const twice = await render(probe.map((item, seed) => ({ caption: item.caption, seed })));
const other = await render(probe.map((item, seed) => ({ caption: item.caption, seed: seed + 1000 })));
const meanDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
const reproducible = once.every((a, i) => Buffer.from(a).equals(Buffer.from(twice[i]!)));
const diffs = once.map((a, i) => meanDiff(a, other[i]!));

await pipeline.dispose();
const targets = { background: 90, color: 85, position: 80, allThree: 70 };
const meets = (lang: string): boolean =>
  heldout[lang] !== undefined && Object.entries(targets).every(([k, v]) => (heldout[lang]![k] ?? 0) >= v);
console.log(
  JSON.stringify(
    {
      eval: 'mini',
      model: info.name,
      modelDir,
      steps: 8,
      guidance: 0,
      shift: info.shift,
      heldout,
      trainDistribution: trainDist,
      targets,
      meetsTargets: { en: meets('en'), zh: meets('zh') },
      seeds: { sameSeedSameBytes: reproducible, otherSeedMeanAbsPixelDiff: Number((diffs.reduce((s, v) => s + v, 0) / diffs.length).toFixed(2)), otherSeedDiffers: diffs.filter((d) => d > 1).length / diffs.length },
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    },
    null,
    2,
  ),
);
