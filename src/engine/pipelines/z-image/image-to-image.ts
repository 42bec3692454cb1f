import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import type { ModelBundle } from './model-bundle.ts';
import { toOutput } from './output.ts';
import { denoise, prepare, startFromImage, type TaskOptions } from './sampling.ts';

/**
 * img2img (SDEdit, as diffusers' ZImageImg2ImgPipeline): the refine role and edits without a mask. The source is
 * encoded, noised to the first kept sigma, and only the kept steps run, so composition survives and detail is
 * redrawn in proportion to strength.
 */
export async function imageToImage(bundle: ModelBundle, spec: JobSpec, context: PipelineContext, options: TaskOptions): Promise<PipelineOutput> {
  const started = performance.now();
  // 1. prompts, noises, schedule
  const prepared = await prepare(bundle, spec);
  // 2. the source's latents, noised to the first kept sigma
  const { latents, start, encodeMs } = await startFromImage(bundle, spec, prepared);
  // 3. denoising loop over the kept steps
  const denoiseStart = performance.now();
  const stepMs = await denoise({ denoiser: bundle.denoiser, preview: { map: bundle.preview, intervalMs: options.previewIntervalMs }, spec, prepared, latents, start, context });
  const denoiseMs = performance.now() - denoiseStart;
  // 4. decode
  const decodeStart = performance.now();
  const frames = await bundle.vae.decode(latents, prepared.shape);
  return toOutput(bundle, spec, frames, {
    textEncodeMs: prepared.textEncodeMs,
    denoiseMs,
    decodeMs: performance.now() - decodeStart,
    encodeMs,
    totalMs: performance.now() - started,
    stepMs,
  }, prepared.truncated);
}
