// npm run eval:mini — the shipped mini model judged from its own pixels, through the product's pipeline code
// (src/engine/pipelines/z-image): drafts at the model's own sampling defaults on the held-out captions
// (heldout.json), the training-distribution captions and the fresh phrasings (fresh.json); then /refine as the
// product runs it (config/default.yaml's refine profile over the model's defaults) on drafts of held-out captions,
// judged before and after: from the draft's own latents, as a refine of a draft runs, and (`encodedSource`) through
// the VAE's encoder, as a refine of an uploaded picture runs. Prints one JSON object.
//
//   npm run eval:mini [-- --only refine] [-- --refine-strength 0.4 --refine-steps 30 --refine-guidance 0 --refine-shift 3]
//     [-- --refine-inversion 0.7]
//     [-- --refine-captions train]
// The --refine-* flags override the profile (for tuning; --refine-inversion applies at any --refine-strength, where
// the product runs it only at the model's own strength); --only refine skips the drafts' figures. Tune on
// --refine-captions train (drafts of training-distribution captions), so the held-out figure is not the one tuned on.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/load.ts';
import { MINI_MODEL_DIR, modelInfo } from '../../src/engine/model/model-info.ts';
import { createPipeline } from '../../src/engine/pipelines/z-image/index.ts';
import type { Pipeline } from '../../src/engine/pipeline.ts';
import type { JobSpec } from '../../src/engine/request.ts';
import { samplingSettings } from '../../src/engine/sampling-settings.ts';
import { judge, type Judged, type JudgeSpec } from './judge.ts';
import { sharpness } from './sharpness.ts';

interface Item {
  readonly caption: string;
  readonly lang: string;
  readonly shape: string;
  readonly color: string;
  readonly background: string;
  readonly position: string;
  readonly mode: string;
}

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    'refine-strength': { type: 'string' },
    'refine-steps': { type: 'string' },
    'refine-guidance': { type: 'string' },
    'refine-shift': { type: 'string' },
    'refine-inversion': { type: 'string' },
    'refine-captions': { type: 'string', default: 'heldout' },
  },
});
if (flags['refine-captions'] !== 'heldout' && flags['refine-captions'] !== 'train') {
  console.error(`--refine-captions must be heldout or train, got ${flags['refine-captions']}`);
  process.exit(2);
}
const numberFlag = (name: string): number | undefined => {
  const raw = flags[name as keyof typeof flags];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    console.error(`--${name} must be a number, got ${String(raw)}`);
    process.exit(2);
  }
  return value;
};

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const data = JSON.parse(readFileSync(here('./heldout.json'), 'utf8')) as {
  palette: JudgeSpec['palette'];
  colors: string[];
  positions: string[];
  judge: { border: number; threshold: number };
  heldout: Item[];
  train_dist: Item[];
};
const fresh = (JSON.parse(readFileSync(here('./fresh.json'), 'utf8')) as { fresh: Item[] }).fresh;
const spec: JudgeSpec = { palette: data.palette, colors: data.colors, positions: data.positions, border: data.judge.border, threshold: data.judge.threshold };
const modelDir = process.env.MODEL_DIR || MINI_MODEL_DIR;
const info = modelInfo(modelDir);
const config = loadConfig({ root: here('../..'), overrideFile: null, env: {} });
const draftSettings = samplingSettings('draft', config.profiles.draft, info);
const refineProfile = config.profiles.refine;
const refineSettings = samplingSettings('refine', refineProfile, info);
const refine = {
  steps: numberFlag('refine-steps') ?? refineSettings.steps,
  guidance: numberFlag('refine-guidance') ?? refineSettings.guidance,
  shift: numberFlag('refine-shift') ?? refineSettings.shift,
  strength: numberFlag('refine-strength') ?? refineSettings.strength,
  inversion: numberFlag('refine-inversion') ?? refineSettings.inversion,
};
const openPipeline = (latentMemoMiB?: number): Promise<Pipeline> =>
  createPipeline({
    device: { name: 'cpu0', provider: 'cpu', threads: 0, deviceId: 0 },
    options: { preload: [modelDir], maxLoaded: 1, ...(latentMemoMiB === undefined ? {} : { latentMemoMiB }) },
    log: () => undefined,
  });
// As the product runs: a refine of a draft starts from the latents the draft was decoded from.
const pipeline = await openPipeline();
// As for an uploaded picture, or a draft refined after a restart: the source goes through the VAE's encoder.
const encodingPipeline = await openPipeline(0);
const context = { cancelled: () => false, onProgress: () => undefined };
const { nativeWidth: width, nativeHeight: height } = info.size;

function jobFor(items: readonly { caption: string; seed: number }[], image: string | null = null): JobSpec {
  const settings = image === null ? draftSettings : refine;
  return {
    role: image === null ? 'draft' : 'refine',
    modelDir,
    modelName: info.name,
    width,
    height,
    steps: settings.steps,
    guidance: settings.guidance,
    shift: settings.shift,
    strength: image === null ? 1 : refine.strength,
    inversion: image === null ? 0 : refine.inversion,
    cfgTruncation: image === null ? config.profiles.draft.cfgTruncation : refineProfile.cfgTruncation,
    cfgNormalization: image === null ? config.profiles.draft.cfgNormalization : refineProfile.cfgNormalization,
    negativePrompt: '',
    userNegativePrompt: null,
    seed: items[0]!.seed,
    chaos: 100,
    style: null,
    userPrompt: items[0]!.caption,
    candidates: items.map((i) => ({ prompt: i.caption, noise: { seed: i.seed } })),
    image,
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

const pct = (hits: number, n: number): number => Number(((100 * hits) / Math.max(1, n)).toFixed(1));

function score(items: readonly Item[], judged: readonly Judged[]): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {};
  for (const lang of [...new Set(items.map((i) => i.lang))].sort().concat('all')) {
    const pairs = items.map((item, k) => [item, judged[k]!] as const).filter(([item]) => lang === 'all' || item.lang === lang);
    const rate = (ok: (item: Item, j: Judged) => boolean): number => pct(pairs.filter(([i, j]) => ok(i, j)).length, pairs.length);
    result[lang] = {
      n: pairs.length,
      shape: rate((i, j) => j.shape === i.shape),
      color: rate((i, j) => j.color === i.color),
      background: rate((i, j) => j.background === i.background),
      position: rate((i, j) => j.position === i.position),
      allThree: rate((i, j) => j.background === i.background && j.color === i.color && j.position === i.position),
      allFour: rate((i, j) => j.shape === i.shape && j.background === i.background && j.color === i.color && j.position === i.position),
    };
  }
  return result;
}

const judgeAll = async (items: readonly Item[]): Promise<Judged[]> =>
  (await render(items.map((item, seed) => ({ caption: item.caption, seed })))).map((rgb) => judge(spec, rgb, width, height));

/**
 * /refine on drafts of held-out captions (every third of each language's 150, so all modes and templates): each
 * draft goes through a PNG file, as a user's would, and is refined with its own caption and a new seed, once as the
 * product refines a draft it drew (from the draft's latents) and once through the encoder (as an upload). A draft
 * keeps when the judge reads the same shape, object colour, background and position after as before.
 */
async function refineBlock(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-eval-refine-'));
  try {
    const picks =
      flags['refine-captions'] === 'train'
        ? data.train_dist.filter((_, k) => k % 2 === 1)
        : [...data.heldout.slice(0, 150).filter((_, k) => k % 3 === 1), ...data.heldout.slice(150).filter((_, k) => k % 3 === 1)];
    const drafts = await render(picks.map((item, k) => ({ caption: item.caption, seed: 100 + k })));
    const paths = await Promise.all(
      drafts.map(async (rgb, k) => {
        const path = join(dir, `draft-${k}.png`);
        await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(path);
        return path;
      }),
    );
    const judged = drafts.map((rgb) => ({ judged: judge(spec, rgb, width, height), sharpness: sharpness(rgb, width, height) }));
    const fromDraft = await refineAll(pipeline, picks, judged, paths);
    const encoded = await refineAll(encodingPipeline, picks, judged, paths);
    // meetsTargets: a refine of a draft (from its latents), as /refine runs; encodedSource has its own, as for an upload.
    return { captions: flags['refine-captions'], settings: refine, drafts: picks.length, ...fromDraft, encodedSource: encoded, targets: REFINE_TARGETS };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Attribute = 'shape' | 'color' | 'background' | 'position';
const ATTRIBUTES: readonly Attribute[] = ['shape', 'color', 'background', 'position'];

const REFINE_TARGETS = { keepAllFour: 90 };
const isRight = (j: Judged, item: Item): boolean => ATTRIBUTES.every((key) => j[key] === item[key]);

/** Refines each draft through `through` and judges it against the draft's own reading (`drafts`, judged once). */
async function refineAll(
  through: Pipeline,
  picks: readonly Item[],
  drafts: readonly { readonly judged: Judged; readonly sharpness: number }[],
  paths: readonly string[],
): Promise<Record<string, unknown>> {
  let kept = 0;
  let found = 0;
  const keptEach: Record<Attribute, number> = { shape: 0, color: 0, background: 0, position: 0 };
  // Of the refines that changed an attribute: a right draft made wrong, a wrong one made right, or neither.
  const changed = { rightToWrong: 0, wrongToRight: 0, other: 0 };
  const after: number[] = [];
  const started = performance.now();
  for (const [k, item] of picks.entries()) {
    const refined = (await through.run(jobFor([{ caption: item.caption, seed: 5000 + k }], paths[k]!), context)).candidates[0]!.data;
    const a = drafts[k]!.judged;
    const b = judge(spec, refined, width, height);
    after.push(sharpness(refined, width, height));
    if (a.color === null) continue;
    found++;
    const same = ATTRIBUTES.filter((key) => a[key] === b[key]);
    for (const key of same) keptEach[key]++;
    if (same.length === ATTRIBUTES.length) {
      kept++;
      continue;
    }
    changed[isRight(a, item) ? 'rightToWrong' : isRight(b, item) ? 'wrongToRight' : 'other']++;
  }
  const mean = (xs: readonly number[]): number => Number((xs.reduce((s, v) => s + v, 0) / xs.length).toFixed(3));
  const before = drafts.map((d) => d.sharpness);
  const keepAllFour = pct(kept, found);
  const sharpnessFigures = { measure: 'RMS luma gradient (sharpness.ts)', before: mean(before), after: mean(after), sharperOrEqual: pct(after.filter((v, i) => v >= before[i]!).length, after.length) };
  return {
    draftsWithObject: found,
    keepAllFour,
    keep: Object.fromEntries(Object.entries(keptEach).map(([k, v]) => [k, pct(v, found)])),
    changed,
    sharpness: sharpnessFigures,
    secondsPerRefine: Number(((performance.now() - started) / 1000 / picks.length).toFixed(2)),
    meetsTargets: keepAllFour >= REFINE_TARGETS.keepAllFour && sharpnessFigures.after >= sharpnessFigures.before,
  };
}

const started = performance.now();
const output: Record<string, unknown> = { eval: 'mini', model: info.name, modelDir };
const targets = { shape: 70, color: 85, background: 90, position: 80, allThree: 70 };
if (flags.only !== 'refine') {
  const heldout = score(data.heldout, await judgeAll(data.heldout));
  const trainDist = score(data.train_dist, await judgeAll(data.train_dist));
  const freshScore = score(fresh, await judgeAll(fresh));
  // Same seed → the same bytes; another seed → another picture (layout within what the caption allows).
  const probe = data.heldout.slice(0, 16);
  const once = await render(probe.map((item, seed) => ({ caption: item.caption, seed })));
  const twice = await render(probe.map((item, seed) => ({ caption: item.caption, seed })));
  const other = await render(probe.map((item, seed) => ({ caption: item.caption, seed: seed + 1000 })));
  const meanDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
  const diffs = once.map((a, i) => meanDiff(a, other[i]!));
  const meets = (lang: string): boolean =>
    heldout[lang] !== undefined && Object.entries(targets).every(([k, v]) => (heldout[lang]![k] ?? 0) >= v);
  Object.assign(output, {
    draft: draftSettings,
    heldout,
    fresh: freshScore,
    trainDistribution: trainDist,
    targets,
    meetsTargets: { en: meets('en'), zh: meets('zh') },
    seeds: {
      sameSeedSameBytes: once.every((a, i) => Buffer.from(a).equals(Buffer.from(twice[i]!))),
      otherSeedMeanAbsPixelDiff: Number((diffs.reduce((s, v) => s + v, 0) / diffs.length).toFixed(2)),
      otherSeedDiffers: diffs.filter((d) => d > 1).length / diffs.length,
    },
  });
}
output.refine = await refineBlock();
output.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
await Promise.all([pipeline.dispose(), encodingPipeline.dispose()]);
console.log(JSON.stringify(output, null, 2));
