import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import { img2imgStartIndex, scaleNoise } from './flow-match-euler.ts';
import { loadFitted, resizeFrame } from './image-ops.ts';
import type { ModelBundle } from './model-bundle.ts';
import { toOutput } from './output.ts';
import { denoise, prepare } from './sampling.ts';

/**
 * img2img (SDEdit, as diffusers' ZImageImg2ImgPipeline): the refine role and edits without a mask. The source is
 * encoded, noised to the first kept sigma, and only the kept steps run, so composition survives and detail is
 * redrawn in proportion to strength.
 */
export async function imageToImage(bundle: ModelBundle, spec: JobSpec, context: PipelineContext): Promise<PipelineOutput> {
  const started = performance.now();
  // 1. source image, fitted to the output size, then to the encoder's input size
  const downscale = bundle.model.manifest.vaeEncoder?.downscale ?? 8;
  const prepared = await prepare(bundle, spec);
  const { shape } = prepared;
  const encodeStart = performance.now();
  const source = await loadFitted(spec.image!, spec.width, spec.height);
  const clean = await bundle.vae.encode(await resizeFrame(source, shape.width * downscale, shape.height * downscale));
  const encodeMs = performance.now() - encodeStart;
  // 2. schedule with the first ⌊N − N·s⌋ steps skipped; noise the clean latent to the first kept sigma
  const start = img2imgStartIndex(spec.steps, spec.strength);
  const sigma0 = prepared.schedule.sigmas[start]!;
  const latents = prepared.noises.map((noise) => scaleNoise(new Float32Array(clean.length), clean, noise, sigma0));
  // 3. denoising loop over the kept steps
  const denoiseStart = performance.now();
  const stepMs = await denoise({ denoiser: bundle.denoiser, spec, prepared, latents, start, context });
  const denoiseMs = performance.now() - denoiseStart;
  // 4. decode
  const decodeStart = performance.now();
  const frames = await bundle.vae.decode(latents, shape);
  return toOutput(bundle, spec, frames, {
    textEncodeMs: prepared.textEncodeMs,
    denoiseMs,
    decodeMs: performance.now() - decodeStart,
    encodeMs,
    totalMs: performance.now() - started,
    stepMs,
  }, prepared.truncated);
}
