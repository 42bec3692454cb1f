import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import { buildMask, composite, downsampleMask, imageSize } from './image-ops.ts';
import type { ModelBundle } from './model-bundle.ts';
import { denoiseAndDecode, prepare, startFromImage, type TaskOptions } from './sampling.ts';

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
  // 3. denoise, re-imposing the unmasked area after each step; 4. decode and composite over the source
  const plane = shape.width * shape.height;
  return denoiseAndDecode(bundle, spec, context, options, {
    started,
    prepared,
    latents,
    start,
    encodeMs,
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
    frame: (frame) => composite(frame, source, mask),
  });
}
