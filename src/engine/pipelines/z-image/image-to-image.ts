import type { PipelineContext, PipelineOutput } from '../../pipeline.ts';
import type { JobSpec } from '../../request.ts';
import type { ModelBundle } from './model-bundle.ts';
import { denoiseAndDecode, prepare, startFromImage, type TaskOptions } from './sampling.ts';

/**
 * img2img (SDEdit, as diffusers' ZImageImg2ImgPipeline): the refine role and edits without a mask. The source is
 * encoded (or, when it is one of this model's recent outputs, taken back as the latents it was decoded from), noised
 * to the first kept sigma, and only the kept steps run, so composition survives and detail is redrawn in proportion
 * to strength. With the spec's `inversion`, part of that noise is read back from the source (noise-inversion.ts).
 */
export async function imageToImage(bundle: ModelBundle, spec: JobSpec, context: PipelineContext, options: TaskOptions): Promise<PipelineOutput> {
  const started = performance.now();
  const prepared = await prepare(bundle, spec);
  const { latents, cleans, start, encodeMs, origins } = await startFromImage(bundle, spec, prepared);
  const inversion = spec.inversion > 0 ? { share: spec.inversion, cleans } : undefined;
  return denoiseAndDecode(bundle, spec, context, options, { started, prepared, latents, start, encodeMs, origins, ...(inversion ? { inversion } : {}) });
}
