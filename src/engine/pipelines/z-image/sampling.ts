import { EngineFailure } from '../../errors.ts';
import { PipelineCancelled, type PipelineContext, type PipelineOutput, type RgbPixels, type SourceLatents } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import { noDenoisingSteps } from '../../sampling-settings.ts';
import type { Denoiser, LatentShape } from './denoiser.ts';
import { eulerStep, flowMatchSchedule, guidanceActive, img2imgStartIndex, scaleNoise, type FlowMatchSchedule } from './flow-match-euler.ts';
import { loadFitted, resizeFrame } from './image-ops.ts';
import { invertedStarts, type Inversion } from './noise-inversion.ts';
import { previewFrame, type PreviewMap } from './preview.ts';
import { noiseFor, posteriorNoiseFor } from './seeded-noise.ts';
import type { ModelBundle } from './model-bundle.ts';
import type { Posterior } from './vae.ts';
import { toOutput } from './output.ts';
import type { TextFeatures, Tokenized } from './text-encoder.ts';
import type { RgbFrame } from './vae.ts';

/** Deployment-level knobs every task takes. */
export interface TaskOptions {
  /** Previews go out at most this often: enough to watch a picture form, little enough to cost nothing. */
  readonly previewIntervalMs: number;
}

/** What every task prepares the same way: latent shape, schedule, text features, noises. */
export interface Prepared {
  readonly shape: LatentShape;
  readonly schedule: FlowMatchSchedule;
  readonly texts: TextFeatures[];
  readonly negatives: TextFeatures[] | null;
  readonly noises: Float32Array[];
  readonly truncated: { prompt: string; tokens: number; kept: number }[];
  readonly textEncodeMs: number;
}

export function latentShape(bundle: ModelBundle, spec: JobSpec): LatentShape {
  const { vaeDecoder, latent } = bundle.model.manifest;
  return { channels: latent.channels, height: spec.height / vaeDecoder.upscale, width: spec.width / vaeDecoder.upscale };
}

/** Steps 2–4 of every pipeline: encode the prompts (and the negative one for CFG), make the noises, the schedule. */
export async function prepare(bundle: ModelBundle, spec: JobSpec): Promise<Prepared> {
  const shape = latentShape(bundle, spec);
  const started = performance.now();
  const prompts = [...new Set(spec.candidates.map((c) => c.prompt))];
  const cfg = spec.guidance > 0;
  const { features, tokenized } = await bundle.encoder.encode(cfg ? [...prompts, spec.negativePrompt] : prompts);
  const byPrompt = new Map(prompts.map((p, i) => [p, features[i]!]));
  const truncated = prompts
    .map((prompt, i) => ({ prompt, t: tokenized[i]! }))
    .concat(cfg ? [{ prompt: spec.negativePrompt, t: tokenized[prompts.length] as Tokenized }] : [])
    .filter(({ t }) => t.fullLength > t.ids.length)
    .map(({ prompt, t }) => ({ prompt, tokens: t.fullLength, kept: t.ids.length }));
  const textEncodeMs = performance.now() - started;
  const size = shape.channels * shape.height * shape.width;
  return {
    shape,
    schedule: flowMatchSchedule(spec.steps, spec.shift),
    texts: spec.candidates.map((c) => byPrompt.get(c.prompt)!),
    negatives: cfg ? spec.candidates.map(() => features[prompts.length]!) : null,
    noises: spec.candidates.map((c) => noiseFor(c.noise, size)),
    truncated,
    textEncodeMs,
  };
}

/**
 * Step 5, the denoising loop, from `start` to the end of the schedule. Latents stay float32 and are updated in
 * place. `afterStep` lets inpainting pull the unmasked area back onto the source's trajectory.
 */
async function denoise(args: {
  readonly denoiser: Denoiser;
  readonly preview: { readonly map: PreviewMap; readonly intervalMs: number };
  readonly spec: JobSpec;
  readonly prepared: Prepared;
  readonly latents: Float32Array[];
  readonly start: number;
  readonly context: PipelineContext;
  /** The run's progress: the steps run before this loop (a noise inversion's) and the run's total. */
  readonly progress: { readonly offset: number; readonly total: number };
  readonly afterStep?: (latents: Float32Array[], sigmaNext: number) => void;
}): Promise<number[]> {
  const { denoiser, spec, prepared, latents, start, context } = args;
  const { sigmas, timesteps } = prepared.schedule;
  const { offset, total } = args.progress;
  const stepMs: number[] = [];
  let lastPreview = performance.now();
  for (let i = start; i < timesteps.length; i++) {
    if (context.cancelled()) throw new PipelineCancelled();
    const began = performance.now();
    const t = timesteps[i]!;
    const guided = prepared.negatives !== null && guidanceActive(t, spec.guidance, spec.cfgTruncation);
    const velocities = await denoiser.velocities(
      latents,
      prepared.shape,
      t,
      prepared.texts,
      guided ? { negatives: prepared.negatives!, scale: spec.guidance, normalization: spec.cfgNormalization } : null,
    );
    latents.forEach((x, k) => eulerStep(x, velocities[k]!, sigmas[i]!, sigmas[i + 1]!));
    // Now and then, not on the last step (the result follows at once): what the image is becoming, x₀ = x + σ·v.
    let preview: RgbPixels | undefined;
    if (i < timesteps.length - 1 && performance.now() - lastPreview >= args.preview.intervalMs) {
      const sigmaNext = sigmas[i + 1]!;
      const predictions = latents.map((x, k) => x.map((value, j) => value + sigmaNext * velocities[k]![j]!));
      preview = previewFrame(args.preview.map, predictions, prepared.shape);
      lastPreview = performance.now();
    }
    args.afterStep?.(latents, sigmas[i + 1]!);
    stepMs.push(performance.now() - began);
    context.onProgress(offset + i - start + 1, total, preview);
  }
  return stepMs;
}

/**
 * Every task's tail: the denoising loop from `start` (after a noise inversion, when the run has one: it replaces
 * `latents`, and its steps count in the progress and the step timings), the decode (each frame through `frame`, for
 * inpainting's composite), and the output with its timings. Every decoded frame's latents go into the model's memo.
 */
export async function denoiseAndDecode(
  bundle: ModelBundle,
  spec: JobSpec,
  context: PipelineContext,
  options: TaskOptions,
  run: {
    readonly started: number;
    readonly prepared: Prepared;
    readonly latents: Float32Array[];
    readonly start: number;
    readonly encodeMs: number;
    /** An image-to-image run's start per candidate (absent for text-to-image). */
    readonly origins?: readonly SourceLatents[];
    /** Start from noise read back from the source (noise-inversion.ts) instead of `latents`. */
    readonly inversion?: Inversion;
    readonly afterStep?: (latents: Float32Array[], sigmaNext: number) => void;
    readonly frame?: (frame: RgbFrame, candidate: number) => RgbFrame;
  },
): Promise<PipelineOutput> {
  const { prepared } = run;
  const denoiseStart = performance.now();
  // An inversion runs as many steps backwards as the loop runs forwards.
  const kept = prepared.schedule.timesteps.length - run.start;
  const backward = run.inversion ? kept : 0;
  const total = backward + kept;
  const { latents, inversionMs } = await startLatents(bundle, context, run, total);
  const loopMs = await denoise({
    denoiser: bundle.denoiser,
    preview: { map: bundle.preview, intervalMs: options.previewIntervalMs },
    spec,
    prepared,
    latents,
    start: run.start,
    context,
    progress: { offset: backward, total },
    afterStep: run.afterStep,
  });
  const stepMs = [...inversionMs, ...loopMs];
  const denoiseMs = performance.now() - denoiseStart;
  const decodeStart = performance.now();
  const decoded = await bundle.vae.decode(latents, prepared.shape);
  const frames = run.frame ? decoded.map(run.frame) : decoded;
  // Keyed by the decoded pixels: a frame the composite then changes is not found again, and is encoded when refined.
  decoded.forEach((frame, k) => bundle.memo.remember(frame, latents[k]!));
  const timings = { textEncodeMs: prepared.textEncodeMs, denoiseMs, decodeMs: performance.now() - decodeStart, encodeMs: run.encodeMs, stepMs };
  return toOutput(bundle, spec, frames, { ...timings, totalMs: performance.now() - run.started }, prepared.truncated, run.origins);
}

/** The loop's first latents: the run's own, or, with an inversion, the inverted starts (and each backward step's time). */
async function startLatents(
  bundle: ModelBundle,
  context: PipelineContext,
  run: { readonly prepared: Prepared; readonly latents: Float32Array[]; readonly start: number; readonly inversion?: Inversion },
  total: number,
): Promise<{ latents: Float32Array[]; inversionMs: number[] }> {
  const { prepared, inversion } = run;
  if (!inversion) return { latents: run.latents, inversionMs: [] };
  const inversionMs: number[] = [];
  let stepStart = performance.now();
  const latents = await invertedStarts({
    denoiser: bundle.denoiser,
    shape: prepared.shape,
    schedule: prepared.schedule,
    start: run.start,
    inversion,
    texts: prepared.texts,
    seeded: prepared.noises,
    cancelled: context.cancelled,
    onStep: (done) => {
      inversionMs.push(performance.now() - stepStart);
      stepStart = performance.now();
      context.onProgress(done, total);
    },
  });
  return { latents, inversionMs };
}

/**
 * One source, fitted: where its clean latents come from, and those latents where its candidates share them (the
 * remembered ones, or the posterior's mean); null when each candidate draws its own posterior sample.
 */
type FittedSource = { readonly frame: RgbFrame } & (
  | { readonly origin: 'remembered'; readonly shared: Float32Array }
  | { readonly origin: 'encoded'; readonly shared: Float32Array | null; readonly posterior: Posterior }
);

/** What img2img and inpainting start from: each candidate's source at output size, its latents, the noised first latents. */
export interface ImageStart {
  readonly sources: RgbFrame[];
  /**
   * Each candidate's clean latents x₀: the source's remembered latents (shared by the candidates of one source), else
   * the posterior's mean, or its own sample when the encoder has a variance. Only read.
   */
  readonly cleans: Float32Array[];
  readonly start: number;
  readonly latents: Float32Array[];
  readonly encodeMs: number;
  /** Where each candidate's clean latents came from. */
  readonly origins: SourceLatents[];
}

/**
 * The source image fitted to the output size, encoded at the encoder's input size (unless the memo knows the
 * latents it was decoded from), and each candidate's noise
 * mixed in at the first kept sigma (diffusers' scale_noise), skipping the first ⌊N − N·strength⌋ steps. A strength
 * that skips them all is refused, as diffusers refuses it (the request is normally refused before it queues).
 */
export async function startFromImage(bundle: ModelBundle, spec: JobSpec, prepared: Prepared): Promise<ImageStart> {
  const began = performance.now();
  const start = img2imgStartIndex(spec.steps, spec.strength);
  if (start >= spec.steps) throw new EngineFailure(noDenoisingSteps(spec.steps, spec.strength));
  const downscale = bundle.model.manifest.vaeEncoder?.downscale ?? 8;
  // Most jobs have one source for every candidate; an edit of a whole grid has one each. Each is encoded once, unless
  // it is one of this model's own outputs: then it starts from the latents it was decoded from.
  const size = prepared.shape.channels * prepared.shape.height * prepared.shape.width;
  // The cleans are only read from here on, so the candidates of one source share its copy unless each draws its own
  // posterior sample (and a noise inversion, which groups candidates by their clean latents, runs once per source).
  const fitted = new Map<string, FittedSource>();
  for (const path of new Set(spec.candidates.map((c) => c.image ?? spec.image!))) {
    const frame = await loadFitted(path, spec.width, spec.height);
    const known = bundle.memo.recall(frame, size);
    if (known) {
      fitted.set(path, { frame, origin: 'remembered', shared: known });
      continue;
    }
    const posterior = await bundle.vae.encode(await resizeFrame(frame, prepared.shape.width * downscale, prepared.shape.height * downscale));
    fitted.set(path, { frame, origin: 'encoded', shared: bundle.vae.samplesPosterior ? null : bundle.vae.latents(posterior, null), posterior });
  }
  const of = (k: number): FittedSource => fitted.get(spec.candidates[k]!.image ?? spec.image!)!;
  const cleans = spec.candidates.map((c, k) => {
    const source = of(k);
    if (source.origin === 'remembered') return source.shared;
    return source.shared ?? bundle.vae.latents(source.posterior, posteriorNoiseFor(c.noise, source.posterior.mean.length));
  });
  const sigma0 = prepared.schedule.sigmas[start]!;
  const latents = prepared.noises.map((noise, k) => scaleNoise(new Float32Array(cleans[k]!.length), cleans[k]!, noise, sigma0));
  const origins = spec.candidates.map((_, k) => of(k).origin);
  return { sources: spec.candidates.map((_, k) => of(k).frame), cleans, start, latents, encodeMs: performance.now() - began, origins };
}
