import type { Role } from '../config/schema.ts';
import { engineError, fail, ok, type EngineError, type Result } from './errors.ts';
import type { GenerationRequest, JobSpec } from './request.ts';

/**
 * An upscale request → its JobSpec. An upscale generates nothing: one image (a candidate of an earlier result) goes
 * through the configured upscale workflow and comes back `scale` times larger. The spec keeps what made the picture
 * (its parent's model, prompt, seed, steps), so the result and its PNG still say how it was drawn, and records the
 * upscale itself in `upscale`.
 */

/** The configured upscale workflow, as the engine checks requests against it. */
export interface UpscaleModel {
  /** The upscale model file the workflow loads (4x-UltraSharp.pth). */
  readonly name: string;
  /** Output side ÷ input side, from the workflow's bindings. */
  readonly scale: number;
  /** The workflow file. */
  readonly file: string;
}

export interface UpscaleContext {
  readonly model: UpscaleModel;
  readonly maxSide: number;
  /** The image to enlarge as stored (or to be stored), and its size; null when the request has none. */
  readonly image: { readonly path: string; readonly width: number; readonly height: number } | null;
  /** The job the image is a candidate of, when it is one of ours. */
  readonly parent: JobSpec | null;
}

const NO_UPSCALE_MODEL = 'no upscale workflow is configured (comfyui.workflows.upscale, on a ComfyUI server with an upscale model); the local ONNX model has no upscale model';

/** The refusal when no upscale workflow is configured at all. */
export function noUpscaleModel(role: Role): EngineError {
  return engineError('no-backend', `No backend can upscale now: ${NO_UPSCALE_MODEL}`, { role, action: 'upscale', reasons: NO_UPSCALE_MODEL });
}

/** The size an image of `size` becomes at `scale`. */
export function upscaledSize(size: { readonly width: number; readonly height: number }, scale: number): { width: number; height: number } {
  return { width: Math.round(size.width * scale), height: Math.round(size.height * scale) };
}

/**
 * The queue charges an upscale by the pixels it makes: one cost unit per output megapixel, the price of one sampling
 * step at that size (an upscale model runs once where a sampler runs once per step).
 */
export function upscaleCost(spec: Pick<JobSpec, 'width' | 'height' | 'candidates'>): number {
  return ((spec.width * spec.height) / 1e6) * spec.candidates.length;
}

export function resolveUpscale(request: GenerationRequest, ctx: UpscaleContext): Result<JobSpec> {
  const { model, image, parent } = ctx;
  if (request.mask !== undefined || request.region !== undefined || request.sources !== undefined || request.vary !== undefined) {
    return fail(engineError('invalid-request', 'An upscale takes one image and nothing else'));
  }
  if (image === null) return fail(engineError('missing-image', 'An upscale needs an image', { role: request.role }));
  const size = upscaledSize(image, model.scale);
  if (Math.max(size.width, size.height) > ctx.maxSide) {
    return fail(
      engineError(
        'bad-size',
        `upscaling ${image.width}×${image.height} by ${model.scale} makes ${size.width}×${size.height}, over the largest side allowed here (${ctx.maxSide} pixels)`,
        { width: size.width, height: size.height, max: ctx.maxSide },
      ),
    );
  }
  if (request.noises !== undefined && request.noises.length !== 1) return fail(engineError('invalid-request', 'An upscale makes one image'));
  const noise = request.noises?.[0] ?? { seed: parent?.seed ?? 0 };
  const prompt = request.prompt.trim();
  return ok({
    role: request.role,
    modelDir: parent?.modelDir ?? model.file,
    modelName: parent?.modelName ?? model.name,
    width: size.width,
    height: size.height,
    steps: parent?.steps ?? 0,
    guidance: parent?.guidance ?? 0,
    shift: parent?.shift ?? 0,
    strength: parent?.strength ?? 1,
    inversion: parent?.inversion ?? 0,
    cfgTruncation: parent?.cfgTruncation ?? 1,
    cfgNormalization: parent?.cfgNormalization ?? 0,
    negativePrompt: request.negativePrompt ?? parent?.negativePrompt ?? '',
    userNegativePrompt: parent?.userNegativePrompt ?? null,
    seed: noise.seed,
    chaos: 100,
    style: parent?.style ?? null,
    userPrompt: prompt,
    candidates: [{ prompt, noise }],
    image: image.path,
    mask: null,
    upscale: { model: model.name, scale: model.scale, input: { width: image.width, height: image.height } },
  });
}
