import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { engineError, EngineFailure } from '../errors.ts';
import { buildMask, loadFitted } from '../pipelines/z-image/image-ops.ts';
import type { JobSpec } from '../request.ts';
import { keptSteps } from '../sampling-settings.ts';
import type { Binding, WorkflowKind } from './workflow.ts';

/**
 * What a job gives a workflow: which workflow runs it, and the values of its bindings per candidate. The project's
 * guidance g (pos + g·(pos − neg)) is ComfyUI's cfg = 1 + g, so Turbo's guidance 0 is cfg 1 (ComfyUI then skips the
 * negative pass). Every candidate is its own prompt with its own seed, so candidate n alone reproduces it.
 */

/** The workflow a job runs on ComfyUI. */
export function workflowKindOf(spec: JobSpec): WorkflowKind {
  if (spec.upscale) return 'upscale';
  if (spec.role === 'draft') return spec.vary ? 'vary' : 'draft';
  if (spec.role === 'refine') return 'refine';
  return spec.mask ? 'inpaint' : 'edit';
}

/** The seed a candidate runs with: its own (a Vary's or chaos's base noise is the local pipeline's business). */
export function seedOf(noise: JobSpec['candidates'][number]['noise']): number {
  return noise.seed;
}

/** The denoise a workflow gets: Vary's strength (comfyui.vary) or the job's img2img strength. */
export function denoiseOf(spec: JobSpec, vary: { readonly subtle: number; readonly strong: number }): number {
  return spec.vary ? vary[spec.vary.strength] : spec.strength;
}

/** The binding values of one candidate; image and mask are the uploaded names. */
export function candidateValues(
  spec: JobSpec,
  index: number,
  uploads: { readonly image?: string; readonly mask?: string },
  vary: { readonly subtle: number; readonly strong: number },
): Partial<Record<Binding, string | number>> {
  const candidate = spec.candidates[index]!;
  const denoise = denoiseOf(spec, vary);
  return {
    prompt: candidate.prompt,
    negative: spec.negativePrompt,
    seed: seedOf(candidate.noise),
    // KSampler runs `steps` steps over a schedule of steps ÷ denoise: sending the steps that run (diffusers' share of
    // the schedule, as the local pipeline runs them) samples the same schedule and costs what the queue charged.
    steps: denoise < 1 ? keptSteps(spec.steps, denoise) : spec.steps,
    cfg: Math.round((1 + spec.guidance) * 1000) / 1000,
    shift: spec.shift,
    width: spec.width,
    height: spec.height,
    batch: 1,
    denoise,
    ...(uploads.image !== undefined ? { image: uploads.image } : {}),
    ...(uploads.mask !== undefined ? { mask: uploads.mask } : {}),
  };
}

/** The stored image a candidate starts from: a Vary's candidate, its own source, or the job's image. */
export function sourceOf(spec: JobSpec, index: number): string | null {
  if (spec.vary) return spec.vary.image;
  return spec.candidates[index]?.image ?? spec.image;
}

/** The size a job's input image is loaded at: the job's size, or for an upscale the size of the image it enlarges. */
export function inputSize(spec: JobSpec): { readonly width: number; readonly height: number } {
  return spec.upscale?.input ?? spec;
}

/**
 * A stored image as the PNG a workflow loads: fitted to the job's input size (scaled to cover, centre-cropped, as the
 * local pipeline fits it), so the workflow's output has the size asked for without a resize node.
 */
export async function sourcePng(path: string, spec: JobSpec): Promise<Buffer> {
  const { width, height } = inputSize(spec);
  // A stored result of this size (a candidate to refine, vary or upscale) is uploaded as it is, with no decode and re-encode.
  const stored = await readFile(path).catch(() => undefined);
  if (stored) {
    const meta = await sharp(stored).metadata().catch(() => undefined);
    if (meta?.format === 'png' && meta.width === width && meta.height === height && meta.channels === 3) return stored;
  }
  const frame = await loadFitted(path, width, height);
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

/** The job's mask (an image or a region) as a grey PNG at the job's size, white = change (LoadImageMask, channel red). */
export async function maskPng(spec: JobSpec, sourcePath: string): Promise<Buffer> {
  if (!spec.mask) throw new EngineFailure(engineError('invalid-request', 'This job has no mask'));
  const source = await sharp(sourcePath).metadata();
  const mask = await buildMask(spec.mask, { width: source.width ?? 0, height: source.height ?? 0 }, spec.width, spec.height);
  const gray = Buffer.alloc(mask.width * mask.height);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.round(Math.min(1, Math.max(0, mask.data[i]!)) * 255);
  return sharp(gray, { raw: { width: mask.width, height: mask.height, channels: 1 } }).png({ compressionLevel: 1 }).toBuffer();
}
