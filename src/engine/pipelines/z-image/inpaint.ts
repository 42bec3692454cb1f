import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import { buildMask, composite, downsampleMask, imageSize } from './image-ops.ts';
import type { ModelBundle } from './model-bundle.ts';
import { toOutput } from './output.ts';
import { denoise, prepare, startFromImage, type TaskOptions } from './sampling.ts';

/**
 * Inpainting (as diffusers' ZImageInpaintPipeline): the edit role with a mask or region. After every step the
 * unmasked area is put back on the source's own trajectory, x = m·x + (1 − m)·(σ_next·noise + (1 − σ_next)·x₀), and
 * the decoded result is composited over the source with the feathered mask, so untouched pixels stay exact.
 */
export async function inpaint(bundle: ModelBundle, spec: JobSpec, context: PipelineContext, options: TaskOptions): Promise<PipelineOutput> {
  const started = performance.now();
  // 1. prompts, noises, schedule
  const prepared = await prepare(bundle, spec);
  const { shape } = prepared;
  // 2. the mask at output size (feathered) and at latent size; the source's latents as img2img
  const mask = await buildMask(spec.mask!, await imageSize(spec.image!), spec.width, spec.height);
  const latentMask = downsampleMask(mask, shape.width, shape.height);
  const { source, clean, latents, start, encodeMs } = await startFromImage(bundle, spec, prepared);
  // 3. denoising loop, re-imposing the unmasked area after each step
  const plane = shape.width * shape.height;
  const denoiseStart = performance.now();
  const stepMs = await denoise({
    denoiser: bundle.denoiser,
    preview: { map: bundle.preview, intervalMs: options.previewIntervalMs },
    spec,
    prepared,
    latents,
    start,
    context,
    afterStep: (xs, sigmaNext) => {
      xs.forEach((x, k) => {
        const noise = prepared.noises[k]!;
        for (let i = 0; i < x.length; i++) {
          const m = latentMask[i % plane]!;
          const known = sigmaNext * noise[i]! + (1 - sigmaNext) * clean[i]!;
          x[i] = m * x[i]! + (1 - m) * known;
        }
      });
    },
  });
  const denoiseMs = performance.now() - denoiseStart;
  // 4. decode and composite over the source
  const decodeStart = performance.now();
  const frames = (await bundle.vae.decode(latents, shape)).map((frame) => composite(frame, source, mask));
  return toOutput(bundle, spec, frames, {
    textEncodeMs: prepared.textEncodeMs,
    denoiseMs,
    decodeMs: performance.now() - decodeStart,
    encodeMs,
    totalMs: performance.now() - started,
    stepMs,
  }, prepared.truncated);
}
