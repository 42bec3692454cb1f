import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import { buildMask, composite, featherMask, imageSize, latentMask } from './image-ops.ts';
import type { ModelBundle } from './model-bundle.ts';
import { denoiseAndDecode, prepare, startFromImage, type TaskOptions } from './sampling.ts';

/**
 * Inpainting as diffusers' ZImageInpaintPipeline: the edit role with a mask or region. After every step the area
 * outside the (binarised, nearest-sampled) latent mask is put back on the source's own trajectory,
 * x = m·x + (1 − m)·(σ_next·noise + (1 − σ_next)·x₀), the last time at σ = 0. With the mask's `composite`, the decoded
 * result is also pasted over the source through a feathered copy of the mask, so untouched pixels stay exact.
 */
export async function inpaint(bundle: ModelBundle, spec: JobSpec, context: PipelineContext, options: TaskOptions): Promise<PipelineOutput> {
  const started = performance.now();
  // 1. prompts, noises, schedule
  const prepared = await prepare(bundle, spec);
  const { shape } = prepared;
  // 2. the mask at output size and on the latent grid; the source's latents as img2img
  const maskSpec = spec.mask!;
  const mask = await buildMask(maskSpec, await imageSize(spec.image!), spec.width, spec.height);
  const blend = latentMask(mask, shape.width, shape.height);
  const { sources, cleans, latents, start, encodeMs, origins } = await startFromImage(bundle, spec, prepared);
  // 3. denoise, re-imposing the unmasked area after each step; 4. decode (and, if asked, composite over the source)
  const plane = shape.width * shape.height;
  const feathered = maskSpec.composite ? featherMask(mask) : null;
  return denoiseAndDecode(bundle, spec, context, options, {
    started,
    prepared,
    latents,
    start,
    encodeMs,
    origins,
    afterStep: (xs, sigmaNext) => {
      xs.forEach((x, k) => {
        const noise = prepared.noises[k]!;
        const clean = cleans[k]!;
        for (let i = 0; i < x.length; i++) {
          if (blend[i % plane] === 1) continue;
          x[i] = sigmaNext * noise[i]! + (1 - sigmaNext) * clean[i]!;
        }
      });
    },
    ...(feathered ? { frame: (frame, k) => composite(frame, sources[k]!, feathered) } : {}),
  });
}
